import KittStore
import KittJSON
import KittPostgres

/// Web campaigns on PostgreSQL, as `CampaignRepository`. Every read-then-write locks the
/// campaign's row first (`FOR UPDATE`), and the conditional UPDATEs carry their condition,
/// so two instances acting on one campaign at once cannot both queue a run, both cancel, or
/// count a finished run twice.
public struct PostgresCampaignRepository: CampaignStoring {
    let store: PostgresStore

    static func decode(_ row: PostgresRow) -> Campaign {
        Campaign.stored(
            id: row.string(0) ?? "", name: row.string(1) ?? "", description: row.string(2) ?? "",
            agentID: row.string(3), status: CampaignStatus(rawValue: row.string(4) ?? ""),
            config: row.string(5) ?? "{}", totalRuns: row.int(6) ?? 0, succeeded: row.int(7) ?? 0,
            failed: row.int(8) ?? 0, nextIndex: row.int(9) ?? 0, currentTestID: row.string(10), error: row.string(11),
            createdAt: row.string(12) ?? "", updatedAt: row.string(13) ?? "", startedAt: row.string(14),
            completedAt: row.string(15))
    }

    static func fetch(_ id: String, _ connection: PostgresConnection, lock: Bool = false) throws -> Campaign? {
        try connection.queryOne(
            "SELECT \(StoredRows.campaignColumns) FROM web_campaigns WHERE id = $1" + (lock ? " FOR UPDATE" : ""),
            [.text(id)]
        ).map(decode)
    }

    /// Runs `sql` (an UPDATE ending in `RETURNING columns`) and logs `line` when it changed a row.
    private func update(_ id: String, _ sql: String, _ parameters: [PostgresValue], line: String?) throws -> Campaign? {
        try store.pool.transaction { connection in
            guard let row = try connection.queryOne(sql + " RETURNING \(StoredRows.campaignColumns)", parameters)
            else { return nil }
            if let line { try PostgresCampaignRepository.insertLog(id, line, connection) }
            return PostgresCampaignRepository.decode(row)
        }
    }

    // MARK: CRUD

    public func create(name: String, description: String, agentID: String?, config: String) throws -> Campaign {
        try store.pool.transaction { connection in
            let now = Timestamp.now()
            guard let row = try connection.queryOne(
                """
                INSERT INTO web_campaigns (id, name, description, agent_id, status, config, created_at, updated_at)
                VALUES ($1, $2, $3, $4, 'draft', $5, $6, $6) RETURNING \(StoredRows.campaignColumns)
                """,
                [.text(StoreID.make()), .text(name), .text(description), PostgresValue(agentID), .text(config), .text(now)])
            else { throw PostgresError(sqlState: "", message: "campaign row missing after insert") }
            return PostgresCampaignRepository.decode(row)
        }
    }

    public func get(id: String) throws -> Campaign? {
        try store.pool.withConnection { try PostgresCampaignRepository.fetch(id, $0) }
    }

    public func list(status: CampaignStatus?, limit: Int, offset: Int) throws -> (items: [Campaign], total: Int) {
        let filter = status == nil ? "" : " WHERE status = $1"
        let bindings: [PostgresValue] = status.map { [.text($0.rawValue)] } ?? []
        let n = bindings.count
        return try store.pool.transaction(isolation: .repeatableRead) { connection in
            let total = try connection.queryOne("SELECT count(*) FROM web_campaigns" + filter, bindings)?.int(0) ?? 0
            let rows = try connection.query(
                "SELECT \(StoredRows.campaignColumns) FROM web_campaigns\(filter)"
                    + " ORDER BY created_at DESC, id COLLATE \"C\" LIMIT $\(n + 1) OFFSET $\(n + 2)",
                bindings + [PostgresValue(max(0, limit)), PostgresValue(max(0, offset))]
            ).rows
            return (rows.map(PostgresCampaignRepository.decode), total)
        }
    }

    public func active() throws -> [Campaign] {
        try store.pool.withConnection { connection in
            try connection.query(
                """
                SELECT \(StoredRows.campaignColumns) FROM web_campaigns
                WHERE status IN ('queued', 'running') ORDER BY created_at, id COLLATE "C"
                """
            ).rows.map(PostgresCampaignRepository.decode)
        }
    }

    public func delete(id: String) throws -> CampaignStop? {
        try store.pool.transaction { connection in
            guard let campaign = try PostgresCampaignRepository.fetch(id, connection, lock: true) else { return nil }
            let test = try PostgresCampaignRepository.cancelQueuedTest(campaign, connection)
            try connection.run("DELETE FROM web_campaigns WHERE id = $1", [.text(id)])
            return CampaignStop.stored(campaign: campaign, cancelledTest: test)
        }
    }

    public func updateConfig(id: String, config: String, agentID: String? = nil) throws -> CampaignRepository.ConfigUpdate {
        try store.pool.transaction { connection in
            guard let campaign = try PostgresCampaignRepository.fetch(id, connection, lock: true) else { return .notFound }
            guard campaign.status == .draft else { return .notDraft(campaign.status) }
            try connection.run(
                "UPDATE web_campaigns SET config = $1, agent_id = COALESCE($2, agent_id), updated_at = $3 WHERE id = $4",
                [.text(config), PostgresValue(agentID), .text(Timestamp.now()), .text(id)])
            return .updated
        }
    }

    // MARK: Lifecycle

    public func markQueued(id: String) throws -> (campaign: Campaign, changed: Bool)? {
        try store.pool.transaction { connection in
            guard let campaign = try PostgresCampaignRepository.fetch(id, connection, lock: true) else { return nil }
            guard campaign.status == .draft || campaign.status == .failed else { return (campaign, false) }
            let row = try connection.queryOne(
                """
                UPDATE web_campaigns SET status = 'queued', total_runs = 0, succeeded = 0, failed = 0, next_index = 0,
                    current_test_id = NULL, error = NULL, started_at = NULL, completed_at = NULL, updated_at = $1
                WHERE id = $2 RETURNING \(StoredRows.campaignColumns)
                """, [.text(Timestamp.now()), .text(id)])
            return (row.map(PostgresCampaignRepository.decode) ?? campaign, true)
        }
    }

    public func markRunning(id: String, totalRuns: Int, line: String?) throws -> Campaign? {
        let now = Timestamp.now()
        return try update(
            id,
            """
            UPDATE web_campaigns SET status = 'running', total_runs = $1, started_at = COALESCE(started_at, $2),
                updated_at = $2
            WHERE id = $3 AND status = 'queued'
            """, [PostgresValue(totalRuns), .text(now), .text(id)], line: line)
    }

    public func queueRun(campaignID: String, test: NewQuickTest, line: String) throws -> QuickTest? {
        try store.pool.transaction { connection in
            guard let campaign = try PostgresCampaignRepository.fetch(campaignID, connection, lock: true),
                campaign.status == .running, campaign.currentTestID == nil
            else { return nil }
            var new = test
            new.campaignID = campaignID
            let created = try PostgresQuickTestRepository.insert(new, connection)
            try connection.run(
                "UPDATE web_campaigns SET current_test_id = $1, updated_at = $2 WHERE id = $3",
                [.text(created.id), .text(Timestamp.now()), .text(campaignID)])
            try PostgresCampaignRepository.insertLog(campaignID, line, connection)
            return created
        }
    }

    public func finishRun(campaignID: String, testID: String, succeeded: Bool, line: String) throws -> Campaign? {
        try update(
            campaignID,
            """
            UPDATE web_campaigns SET next_index = next_index + 1, current_test_id = NULL,
                succeeded = succeeded + $1, failed = failed + $2, updated_at = $3
            WHERE id = $4 AND current_test_id = $5 AND status = 'running'
            """,
            [.integer(succeeded ? 1 : 0), .integer(succeeded ? 0 : 1), .text(Timestamp.now()), .text(campaignID),
             .text(testID)], line: line)
    }

    public func skipRun(campaignID: String, line: String) throws -> Campaign? {
        try update(
            campaignID,
            """
            UPDATE web_campaigns SET next_index = next_index + 1, failed = failed + 1, updated_at = $1
            WHERE id = $2 AND current_test_id IS NULL AND status = 'running'
            """, [.text(Timestamp.now()), .text(campaignID)], line: line)
    }

    public func finish(id: String, status: CampaignStatus, error: String?, line: String) throws -> Campaign? {
        let now = Timestamp.now()
        return try update(
            id,
            """
            UPDATE web_campaigns SET status = $1, error = $2, current_test_id = NULL, completed_at = $3, updated_at = $3
            WHERE id = $4 AND status IN ('queued', 'running')
            """, [.text(status.rawValue), PostgresValue(error), .text(now), .text(id)], line: line)
    }

    public func cancel(id: String, line: String) throws -> CampaignRepository.CancelOutcome {
        try store.pool.transaction { connection in
            guard let campaign = try PostgresCampaignRepository.fetch(id, connection, lock: true) else { return .notFound }
            guard campaign.isActive else { return .notActive(campaign.status) }
            let test = try PostgresCampaignRepository.cancelQueuedTest(campaign, connection)
            let now = Timestamp.now()
            let row = try connection.queryOne(
                """
                UPDATE web_campaigns SET status = 'cancelled', current_test_id = NULL, completed_at = $1, updated_at = $1
                WHERE id = $2 RETURNING \(StoredRows.campaignColumns)
                """, [.text(now), .text(id)])
            try PostgresCampaignRepository.insertLog(id, line, connection)
            return .cancelled(CampaignStop.stored(campaign: row.map(PostgresCampaignRepository.decode) ?? campaign, cancelledTest: test))
        }
    }

    /// The in-flight test, cancelled (with its command) when no agent has picked it up.
    static func cancelQueuedTest(_ campaign: Campaign, _ connection: PostgresConnection) throws -> QuickTest? {
        guard let testID = campaign.currentTestID,
            try connection.queryOne("SELECT status FROM quick_tests WHERE id = $1", [.text(testID)])?.string(0) == "queued"
        else { return nil }
        return try PostgresQuickTestRepository.transition(
            id: testID, to: .cancelled, error: "campaign cancelled", agentID: nil, connection)?.test
    }

    // MARK: Logs

    public func appendLog(campaignID: String, line: String) throws {
        try store.pool.transaction { try PostgresCampaignRepository.insertLog(campaignID, line, $0) }
    }

    static func insertLog(_ campaignID: String, _ line: String, _ connection: PostgresConnection) throws {
        try connection.run(
            "INSERT INTO campaign_logs (campaign_id, line, created_at) VALUES ($1, $2, $3)",
            [.text(campaignID), .text(line), .text(Timestamp.now())])
    }

    public func logs(campaignID: String) throws -> [LogLine]? {
        try store.pool.transaction(isolation: .repeatableRead) { connection in
            guard try PostgresCampaignRepository.fetch(campaignID, connection) != nil else { return nil }
            return try connection.query(
                "SELECT line, created_at FROM campaign_logs WHERE campaign_id = $1 ORDER BY id", [.text(campaignID)]
            ).rows.map { LogLine.stored(line: $0.string(0) ?? "", createdAt: $0.string(1) ?? "") }
        }
    }
}

extension PostgresStore {
    public var campaigns: PostgresCampaignRepository { PostgresCampaignRepository(store: self) }
}
