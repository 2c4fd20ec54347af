import KittAPI

/// Long-running work beside the request path: the campaign runner (and the agent offline
/// monitor). Started after the server listens, stopped before it shuts down.
final class BackgroundServices: Sendable {
    private let campaigns: CampaignRunner
    private let offline: AgentOfflineMonitor
    /// On a shared PostgreSQL database: runs `campaigns` only while this instance holds the lease.
    private let leadership: CampaignLeadership?

    /// `campaigns`: the runner the API's services wake (`Services.runner`).
    init(context: APIContext, campaigns: CampaignRunner, leadership: CampaignLeadership? = nil) {
        self.campaigns = campaigns
        self.leadership = leadership
        offline = AgentOfflineMonitor(context: context)
    }

    func start() {
        offline.start()
        if let leadership { leadership.start() } else { campaigns.start() }
    }

    func stop() {
        if let leadership { leadership.stop() } else { campaigns.stop() }
        offline.stop()
    }
}
