import KittAPI

/// Long-running work beside the request path: the campaign runner (and the agent offline
/// monitor). Started after the server listens, stopped before it shuts down.
final class BackgroundServices: Sendable {
    private let campaigns: CampaignRunner

    init(context: APIContext) {
        campaigns = CampaignRunner(context: context)
    }

    func start() {
        campaigns.start()
    }

    func stop() {
        campaigns.stop()
    }
}
