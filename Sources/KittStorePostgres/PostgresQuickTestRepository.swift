import KittStore
import KittJSON
import KittPostgres

/// Quick tests on PostgreSQL, as `QuickTestRepository`. A transition locks the test's row
/// (`FOR UPDATE`), so two instances finishing the same test at once change it once: the
/// second sees the status already set (`changed: false`) and publishes no event.
public struct PostgresQuickTestRepository: QuickTestStoring {
    let store: PostgresStore

    static func decode(_ row: PostgresRow) -> QuickTest {
        QuickTest.stored(
            id: row.string(0) ?? "", agentID: row.string(1) ?? "", agentName: row.string(2) ?? "",
            modelPath: row.string(3) ?? "", engineName: row.string(4) ?? "", benchmarkName: row.string(5) ?? "",
            suiteName: row.string(6) ?? "", engineMode: row.string(7) ?? "", profileID: row.string(8),
            status: QuickTestStatus(rawValue: row.string(9) ?? ""), commandID: row.string(10),
            campaignID: row.string(11), resultID: row.string(12), error: row.string(13),
            createdAt: row.string(14) ?? "", startedAt: row.string(15), completedAt: row.string(16))
    }

    static func fetch(_ id: String, _ connection: PostgresConnection, lock: Bool = false) throws -> QuickTest? {
        try connection.queryOne(
            "SELECT \(StoredRows.quickTestColumns) FROM quick_tests WHERE id = $1" + (lock ? " FOR UPDATE" : ""),
            [.text(id)]
        ).map(decode)
    }

    /// The `run_test` command's payload: what the agent needs to run the test.
    static func payload(_ test: QuickTest) -> JSON {
        .object(
            JSONObject([
                ("model_path", .string(test.modelPath)), ("engine_name", .string(test.engineName)),
                ("benchmark_name", .string(test.benchmarkName)), ("suite_name", .string(test.suiteName)),
                ("engine_mode", .string(test.engineMode)), ("profile_id", test.profileID.map(JSON.string) ?? .null),
            ]))
    }

    public func create(_ new: NewQuickTest) throws -> QuickTest {
        try store.pool.transaction { try PostgresQuickTestRepository.insert(new, $0) }
    }

    /// The test and its command, for callers composing it into their transaction (campaigns).
    static func insert(_ new: NewQuickTest, _ connection: PostgresConnection) throws -> QuickTest {
        let now = Timestamp.now()
        let test = QuickTest.stored(
            id: StoreID.make(), agentID: new.agentID, agentName: new.agentName, modelPath: new.modelPath,
            engineName: new.engineName, benchmarkName: new.benchmarkName, suiteName: new.suiteName,
            engineMode: new.engineMode, profileID: new.profileID, status: .queued, commandID: StoreID.make(),
            campaignID: new.campaignID, resultID: nil, error: nil, createdAt: now, startedAt: nil, completedAt: nil)
        try connection.run(
            """
            INSERT INTO quick_tests (id, agent_id, agent_name, model_path, engine_name, benchmark_name, suite_name,
                engine_mode, profile_id, status, command_id, campaign_id, created_at)
            VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, 'queued', $10, $11, $12)
            """,
            [.text(test.id), .text(test.agentID), .text(test.agentName), .text(test.modelPath),
             .text(test.engineName), .text(test.benchmarkName), .text(test.suiteName), .text(test.engineMode),
             PostgresValue(test.profileID), PostgresValue(test.commandID), PostgresValue(test.campaignID),
             .text(now)])
        try connection.run(
            """
            INSERT INTO agent_commands (id, agent_id, test_id, type, payload, status, created_at)
            VALUES ($1, $2, $3, 'run_test', $4, 'queued', $5)
            """,
            [PostgresValue(test.commandID), .text(test.agentID), .text(test.id),
             .text(PostgresQuickTestRepository.payload(test).jsonString), .text(now)])
        return test
    }

    public func get(id: String) throws -> QuickTest? {
        try store.pool.withConnection { try PostgresQuickTestRepository.fetch(id, $0) }
    }

    public func find(commandID: String) throws -> QuickTest? {
        try store.pool.withConnection { connection in
            try connection.queryOne(
                "SELECT \(StoredRows.quickTestColumns) FROM quick_tests WHERE command_id = $1", [.text(commandID)]
            ).map(PostgresQuickTestRepository.decode)
        }
    }

    public func list(status: QuickTestStatus?, agentName: String?, campaignID: String? = nil, limit: Int, offset: Int)
        throws -> (items: [QuickTest], total: Int)
    {
        var conditions: [String] = []
        var bindings: [PostgresValue] = []
        for (column, value) in [("campaign_id", campaignID), ("status", status?.rawValue), ("agent_name", agentName)] {
            guard let value else { continue }
            bindings.append(.text(value))
            conditions.append("\(column) = $\(bindings.count)")
        }
        let filter = conditions.isEmpty ? "" : " WHERE " + conditions.joined(separator: " AND ")
        let n = bindings.count
        return try store.pool.transaction(isolation: .repeatableRead) { connection in
            let total = try connection.queryOne("SELECT count(*) FROM quick_tests" + filter, bindings)?.int(0) ?? 0
            let rows = try connection.query(
                "SELECT \(StoredRows.quickTestColumns) FROM quick_tests\(filter)"
                    + " ORDER BY created_at DESC, id COLLATE \"C\" LIMIT $\(n + 1) OFFSET $\(n + 2)",
                bindings + [PostgresValue(max(0, limit)), PostgresValue(max(0, offset))]
            ).rows
            return (rows.map(PostgresQuickTestRepository.decode), total)
        }
    }

    public func unfinished(startedBefore cutoff: String) throws -> [QuickTest] {
        try store.pool.withConnection { connection in
            try connection.query(
                """
                SELECT \(StoredRows.quickTestColumns) FROM quick_tests
                WHERE status IN ('queued', 'dispatched', 'running') AND COALESCE(started_at, created_at) < $1
                """, [.text(cutoff)]
            ).rows.map(PostgresQuickTestRepository.decode)
        }
    }

    public func transition(id: String, to status: QuickTestStatus, error: String?, agentID: String? = nil) throws
        -> StatusTransition?
    {
        try store.pool.transaction {
            try PostgresQuickTestRepository.transition(id: id, to: status, error: error, agentID: agentID, $0)
        }
    }

    static func transition(
        id: String, to status: QuickTestStatus, error: String?, agentID: String?, _ connection: PostgresConnection
    ) throws -> StatusTransition? {
        guard let current = try PostgresQuickTestRepository.fetch(id, connection, lock: true) else { return nil }
        if let agentID, current.agentID != agentID { return nil }
        let finished = status.isFinished
        if current.status == status || (current.isFinished && !finished) {
            return StatusTransition.stored(test: current, changed: false)
        }
        let now = Timestamp.now()
        guard let row = try connection.queryOne(
            """
            UPDATE quick_tests SET status = $1, error = $2,
                started_at = CASE WHEN $1 = 'running' THEN COALESCE(started_at, $3) ELSE started_at END,
                completed_at = CASE WHEN $4 THEN $3 ELSE NULL END
            WHERE id = $5 RETURNING \(StoredRows.quickTestColumns)
            """,
            [.text(status.rawValue), PostgresValue(error), .text(now), .bool(finished), .text(id)])
        else { return nil }
        if finished {
            try connection.run(
                "UPDATE agent_commands SET status = 'done' WHERE test_id = $1 AND status = 'queued'", [.text(id)])
        }
        return StatusTransition.stored(test: PostgresQuickTestRepository.decode(row), changed: true)
    }
}

extension PostgresStore {
    public var quickTests: PostgresQuickTestRepository { PostgresQuickTestRepository(store: self) }
}
