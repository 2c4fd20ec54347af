import KittStore

/// The services behind the API routes (issue 10): one per aggregate, each owning
/// "validate → persist → publish → wake the campaign runner" and answering through a
/// completion, off the event loop. Built once, where the context and router are built
/// (`kitt web`, the test harness), and handed to `Routes.makeRouter`; the same campaign
/// runner is started and stopped by whoever owns the server's lifetime.
public final class Services: Sendable {
    /// Started and stopped by the server (`BackgroundServices`) or a test; the services wake it.
    public let runner: CampaignRunner
    let agents: AgentsService
    let quickTests: QuickTestsService
    let campaigns: CampaignsService
    let results: ResultsService

    public init(context: APIContext) {
        let catalog = EngineCatalog.load(configDirectory: context.settings.configDirectory)
        let runner = CampaignRunner(context: context, catalog: catalog)
        self.runner = runner
        let quickTests = QuickTestsService(context: context, runner: runner, catalog: catalog)
        self.quickTests = quickTests
        agents = AgentsService(context: context, quickTests: quickTests)
        campaigns = CampaignsService(context: context, runner: runner)
        results = ResultsService(store: context.store)
    }
}
