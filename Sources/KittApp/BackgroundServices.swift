import KittAPI

/// Long-running work beside the request path: the campaign runner (and the agent offline
/// monitor). Started after the server listens, stopped before it shuts down.
final class BackgroundServices: Sendable {
    private let campaigns: CampaignRunner
    private let offline: AgentOfflineMonitor

    /// `campaigns`: the runner the API's services wake (`Services.runner`).
    init(context: APIContext, campaigns: CampaignRunner) {
        self.campaigns = campaigns
        offline = AgentOfflineMonitor(context: context)
    }

    func start() {
        offline.start()
        campaigns.start()
    }

    func stop() {
        campaigns.stop()
        offline.stop()
    }
}
