import KittJSON
import KittPostgres
import KittStore

/// The PostgreSQL store behind the same interface as SQLite's (`kitt web --database`).
extension PostgresStore: DataStore {
    public var backendName: String { "postgresql" }
    public func ping() throws { _ = try pool.withConnection { try $0.queryOne("SELECT 1") } }
    /// Every COMMIT is durable already (`synchronous_commit = on`).
    public func syncToDisk() throws {}

    public func statusCounts(offlineCutoff: String) throws -> StatusCounts {
        try pool.transaction(isolation: .repeatableRead) { connection in
            var counts = StatusCounts()
            for row in try connection.query(
                """
                SELECT CASE WHEN last_heartbeat IS NULL OR last_heartbeat < $1 THEN 'offline'
                            ELSE status END AS shown, count(*)
                FROM agents GROUP BY shown
                """, [.text(offlineCutoff)]
            ).rows {
                counts.agents[AgentStatus(rawValue: row.string(0) ?? "unknown"), default: 0] += row.int(1) ?? 0
            }
            for row in try connection.query("SELECT status, count(*) FROM quick_tests GROUP BY status").rows {
                counts.quickTests[QuickTestStatus(rawValue: row.string(0) ?? "unknown"), default: 0] += row.int(1) ?? 0
            }
            for row in try connection.query("SELECT status, count(*) FROM web_campaigns GROUP BY status").rows {
                counts.campaigns[CampaignStatus(rawValue: row.string(0) ?? "unknown"), default: 0] += row.int(1) ?? 0
            }
            counts.results = try connection.queryOne("SELECT count(*) FROM runs")?.int(0) ?? 0
            return counts
        }
    }
}

extension PostgresResultsRepository: ResultsReading {
    /// Each read takes its own connection and snapshot (see `ResultsSnapshotReading`).
    public func readSnapshot<T: Sendable>(
        _ body: @escaping @Sendable (any ResultsSnapshotReading) throws -> T,
        completion: @escaping @Sendable (Result<T, any Error>) -> Void
    ) {
        let snapshot = PostgresResultsSnapshot(results: self)
        store.workers.submit { completion(Result { try body(snapshot) }) }
    }

    /// The shared change count: one indexed read, and it moves with every instance's writes.
    public var dataVersion: Int { get throws { try changeCount() } }

    public func delete(id: String, completion: @escaping @Sendable (Result<Bool, any Error>) -> Void) {
        store.workers.submit { completion(Result { try delete(id: id) }) }
    }
}

struct PostgresResultsSnapshot: ResultsSnapshotReading {
    let results: PostgresResultsRepository

    func changeCount() throws -> Int { try results.changeCount() }
    func list(_ filter: ResultFilter, limit: Int, offset: Int) throws -> (total: Int, items: [RawJSON]) {
        try results.list(filter, limit: limit, offset: offset)
    }
    func get(ids: [String]) throws -> [RawJSON] { try results.get(ids: ids) }
    func aggregate(groupBy group: ResultGroup, metrics: [String]) throws -> [ResultsRepository.AggregateRow] {
        try results.aggregate(groupBy: group, metrics: metrics).rows
    }
}
