import KittSQLite

/// Rows by status, for metrics: agents (offline computed from the heartbeat cutoff, as the
/// API shows them), quick tests, campaigns, and the number of results stored. One read
/// snapshot; a few indexed GROUP BYs.
public struct StatusCounts: Sendable {
    public var agents: [AgentStatus: Int] = [:]
    public var quickTests: [QuickTestStatus: Int] = [:]
    public var campaigns: [CampaignStatus: Int] = [:]
    public var results = 0

    public init() {}
}

extension Store {
    /// `offlineCutoff`: heartbeats older than this ISO 8601 timestamp count as offline.
    public func statusCounts(offlineCutoff: String) throws -> StatusCounts {
        try database.read { connection in
            var counts = StatusCounts()
            for row in try connection.query(
                """
                SELECT CASE WHEN last_heartbeat IS NULL OR last_heartbeat < ? THEN 'offline'
                            ELSE status END AS shown, count(*)
                FROM agents GROUP BY shown
                """, [.text(offlineCutoff)])
            {
                counts.agents[AgentStatus(rawValue: row.string(0) ?? "unknown"), default: 0] += row.int(1) ?? 0
            }
            for row in try connection.query("SELECT status, count(*) FROM quick_tests GROUP BY status") {
                counts.quickTests[QuickTestStatus(rawValue: row.string(0) ?? "unknown"), default: 0] += row.int(1) ?? 0
            }
            for row in try connection.query("SELECT status, count(*) FROM web_campaigns GROUP BY status") {
                counts.campaigns[CampaignStatus(rawValue: row.string(0) ?? "unknown"), default: 0] += row.int(1) ?? 0
            }
            // From the summaries (schema v5): O(models), not a scan of a million runs per scrape.
            counts.results = try ResultsRepository.count(ResultFilter(), in: connection)
            return counts
        }
    }
}
