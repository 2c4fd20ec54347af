import KittJSON
import KittSQLite

/// A web campaign: every model × engine × benchmark of its config, run on one agent.
public struct Campaign: Sendable, Equatable {
    public var id: String
    public var name: String
    public var description: String
    public var agentID: String?
    public var status: CampaignStatus
    /// The config document as the client sent it (JSON text; SPEC §7.1).
    public var config: String
    public var totalRuns: Int
    public var succeeded: Int
    public var failed: Int
    /// How many runs of the plan are finished (the resume point).
    public var nextIndex: Int
    /// The quick test in flight, if any.
    public var currentTestID: String?
    public var error: String?
    public var createdAt: String
    public var updatedAt: String
    public var startedAt: String?
    public var completedAt: String?

    public var isActive: Bool { status.isActive }
}

/// What `cancel` and `delete` did, so callers can publish the right events.
public struct CampaignStop: Sendable {
    public var campaign: Campaign
    /// The in-flight quick test that was still queued and is now `cancelled`.
    public var cancelledTest: QuickTest?
}

public struct CampaignRepository: Sendable {
    public let database: Database

    public init(database: Database) {
        self.database = database
    }

    static let columns = """
        id, name, description, agent_id, status, config, total_runs, succeeded, failed, next_index,
        current_test_id, error, created_at, updated_at, started_at, completed_at
        """

    static func decode(_ row: Row) -> Campaign {
        Campaign(
            id: row.string(0) ?? "", name: row.string(1) ?? "", description: row.string(2) ?? "",
            agentID: row.string(3), status: CampaignStatus(rawValue: row.string(4) ?? ""), config: row.string(5) ?? "{}",
            totalRuns: row.int(6) ?? 0, succeeded: row.int(7) ?? 0, failed: row.int(8) ?? 0,
            nextIndex: row.int(9) ?? 0, currentTestID: row.string(10), error: row.string(11),
            createdAt: row.string(12) ?? "", updatedAt: row.string(13) ?? "", startedAt: row.string(14),
            completedAt: row.string(15))
    }

    static func fetch(_ id: String, _ conn: Connection) throws -> Campaign? {
        try conn.queryOne("SELECT \(columns) FROM web_campaigns WHERE id = ?", [.text(id)]).map(decode)
    }

    // MARK: CRUD

    public func create(name: String, description: String, agentID: String?, config: String) throws -> Campaign {
        try database.write { conn in
            let now = Timestamp.now()
            let id = StoreID.make()
            try conn.run(
                """
                INSERT INTO web_campaigns (id, name, description, agent_id, status, config, created_at, updated_at)
                VALUES (?, ?, ?, ?, 'draft', ?, ?, ?)
                """,
                [.text(id), .text(name), .text(description), SQLiteValue(agentID), .text(config), .text(now), .text(now)])
            guard let campaign = try CampaignRepository.fetch(id, conn) else {
                throw SQLiteError(code: 1, message: "campaign row missing after insert")
            }
            return campaign
        }
    }

    public func get(id: String) throws -> Campaign? {
        try database.read { conn in try CampaignRepository.fetch(id, conn) }
    }

    public func list(status: CampaignStatus?, limit: Int, offset: Int) throws -> (items: [Campaign], total: Int) {
        let filter = status == nil ? "" : " WHERE status = ?"
        let bindings: [SQLiteValue] = status.map { [.text($0.rawValue)] } ?? []
        return try database.read { conn in
            let total = try conn.queryOne("SELECT COUNT(*) FROM web_campaigns" + filter, bindings)?.int(0) ?? 0
            let rows = try conn.query(
                "SELECT \(CampaignRepository.columns) FROM web_campaigns\(filter) ORDER BY created_at DESC, id LIMIT ? OFFSET ?",
                bindings + [.integer(Int64(limit)), .integer(Int64(offset))])
            return (rows.map(CampaignRepository.decode), total)
        }
    }

    /// Campaigns a runner must drive (after a restart too).
    public func active() throws -> [Campaign] {
        try database.read { conn in
            try conn.query(
                "SELECT \(CampaignRepository.columns) FROM web_campaigns WHERE status IN ('queued', 'running') ORDER BY created_at"
            ).map(CampaignRepository.decode)
        }
    }

    /// Deletes a campaign (and its logs); a still-queued in-flight test is cancelled. nil: no such campaign.
    public func delete(id: String) throws -> CampaignStop? {
        try database.write { conn in
            guard let campaign = try CampaignRepository.fetch(id, conn) else { return nil }
            let test = try CampaignRepository.cancelQueuedTest(campaign, conn)
            try conn.run("DELETE FROM web_campaigns WHERE id = ?", [.text(id)])
            return CampaignStop(campaign: campaign, cancelledTest: test)
        }
    }

    public enum ConfigUpdate: Sendable, Equatable { case updated, notFound, notDraft(CampaignStatus) }

    /// Replaces the config of a draft (and its agent, when `agentID` is given).
    public func updateConfig(id: String, config: String, agentID: String? = nil) throws -> ConfigUpdate {
        try database.write { conn in
            guard let campaign = try CampaignRepository.fetch(id, conn) else { return .notFound }
            guard campaign.status == .draft else { return .notDraft(campaign.status) }
            try conn.run(
                "UPDATE web_campaigns SET config = ?, agent_id = COALESCE(?, agent_id), updated_at = ? WHERE id = ?",
                [.text(config), SQLiteValue(agentID), .text(Timestamp.now()), .text(id)])
            return .updated
        }
    }

    // MARK: Lifecycle

    /// draft|failed → queued, progress reset. Returns the campaign as it was when the status did
    /// not allow it (the caller answers 400), nil when there is none.
    public func markQueued(id: String) throws -> (campaign: Campaign, changed: Bool)? {
        try database.write { conn in
            guard let campaign = try CampaignRepository.fetch(id, conn) else { return nil }
            guard campaign.status == .draft || campaign.status == .failed else { return (campaign, false) }
            try conn.run(
                """
                UPDATE web_campaigns SET status = 'queued', total_runs = 0, succeeded = 0, failed = 0, next_index = 0,
                    current_test_id = NULL, error = NULL, started_at = NULL, completed_at = NULL, updated_at = ?
                WHERE id = ?
                """, [.text(Timestamp.now()), .text(id)])
            return (try CampaignRepository.fetch(id, conn) ?? campaign, true)
        }
    }

    /// queued → running with the number of runs planned; appends `line` to the log.
    public func markRunning(id: String, totalRuns: Int, line: String?) throws -> Campaign? {
        try database.write { conn in
            let now = Timestamp.now()
            let changes = try conn.run(
                """
                UPDATE web_campaigns SET status = 'running', total_runs = ?, started_at = COALESCE(started_at, ?),
                    updated_at = ?
                WHERE id = ? AND status = 'queued'
                """, [.integer(Int64(totalRuns)), .text(now), .text(now), .text(id)])
            guard changes > 0 else { return nil }
            if let line { try CampaignRepository.insertLog(id, line, now, conn) }
            return try CampaignRepository.fetch(id, conn)
        }
    }

    /// Creates the quick test for the next run, records it as in flight and logs `line`, all in
    /// one transaction, only while the campaign is still `running` with nothing in flight.
    public func queueRun(campaignID: String, test: NewQuickTest, line: String) throws -> QuickTest? {
        try database.write { conn in
            guard let campaign = try CampaignRepository.fetch(campaignID, conn),
                campaign.status == .running, campaign.currentTestID == nil
            else { return nil }
            var new = test
            new.campaignID = campaignID
            let created = try QuickTestRepository.insert(new, conn)
            let now = Timestamp.now()
            try conn.run(
                "UPDATE web_campaigns SET current_test_id = ?, updated_at = ? WHERE id = ?",
                [.text(created.id), .text(now), .text(campaignID)])
            try CampaignRepository.insertLog(campaignID, line, now, conn)
            return created
        }
    }

    /// Records the in-flight test `testID` as done (one more succeeded or failed, next_index + 1)
    /// and logs `line`. Nothing happens (nil) unless it is still the campaign's current test.
    public func finishRun(campaignID: String, testID: String, succeeded: Bool, line: String) throws -> Campaign? {
        try database.write { conn in
            let now = Timestamp.now()
            let changes = try conn.run(
                """
                UPDATE web_campaigns SET next_index = next_index + 1, current_test_id = NULL,
                    succeeded = succeeded + ?, failed = failed + ?, updated_at = ?
                WHERE id = ? AND current_test_id = ? AND status = 'running'
                """,
                [.integer(succeeded ? 1 : 0), .integer(succeeded ? 0 : 1), .text(now), .text(campaignID), .text(testID)])
            guard changes > 0 else { return nil }
            try CampaignRepository.insertLog(campaignID, line, now, conn)
            return try CampaignRepository.fetch(campaignID, conn)
        }
    }

    /// Advances past a run that cannot be queued (counted as failed).
    public func skipRun(campaignID: String, line: String) throws -> Campaign? {
        try database.write { conn in
            let now = Timestamp.now()
            let changes = try conn.run(
                """
                UPDATE web_campaigns SET next_index = next_index + 1, failed = failed + 1, updated_at = ?
                WHERE id = ? AND current_test_id IS NULL AND status = 'running'
                """, [.text(now), .text(campaignID)])
            guard changes > 0 else { return nil }
            try CampaignRepository.insertLog(campaignID, line, now, conn)
            return try CampaignRepository.fetch(campaignID, conn)
        }
    }

    /// queued|running → completed|failed with `error`, logging `line`. nil when no longer active.
    public func finish(id: String, status: CampaignStatus, error: String?, line: String) throws -> Campaign? {
        try database.write { conn in
            let now = Timestamp.now()
            let changes = try conn.run(
                """
                UPDATE web_campaigns SET status = ?, error = ?, current_test_id = NULL, completed_at = ?, updated_at = ?
                WHERE id = ? AND status IN ('queued', 'running')
                """, [.text(status.rawValue), SQLiteValue(error), .text(now), .text(now), .text(id)])
            guard changes > 0 else { return nil }
            try CampaignRepository.insertLog(id, line, now, conn)
            return try CampaignRepository.fetch(id, conn)
        }
    }

    public enum CancelOutcome: Sendable { case cancelled(CampaignStop), notFound, notActive(CampaignStatus) }

    /// queued|running → cancelled; the in-flight test is cancelled too if no agent took it yet.
    public func cancel(id: String, line: String) throws -> CancelOutcome {
        try database.write { conn in
            guard let campaign = try CampaignRepository.fetch(id, conn) else { return .notFound }
            guard campaign.isActive else { return .notActive(campaign.status) }
            let test = try CampaignRepository.cancelQueuedTest(campaign, conn)
            let now = Timestamp.now()
            try conn.run(
                """
                UPDATE web_campaigns SET status = 'cancelled', current_test_id = NULL, completed_at = ?, updated_at = ?
                WHERE id = ?
                """, [.text(now), .text(now), .text(id)])
            try CampaignRepository.insertLog(id, line, now, conn)
            let updated = try CampaignRepository.fetch(id, conn) ?? campaign
            return .cancelled(CampaignStop(campaign: updated, cancelledTest: test))
        }
    }

    /// The campaign's in-flight test, cancelled (with its command) when no agent has picked it up.
    static func cancelQueuedTest(_ campaign: Campaign, _ conn: Connection) throws -> QuickTest? {
        guard let testID = campaign.currentTestID,
            let row = try conn.queryOne(
                "SELECT status FROM quick_tests WHERE id = ?", [.text(testID)]),
            row.string(0) == "queued"
        else { return nil }
        return try QuickTestRepository.setStatus(id: testID, status: .cancelled, error: "campaign cancelled", conn)
    }

    // MARK: Logs

    public func appendLog(campaignID: String, line: String) throws {
        try database.write { conn in try CampaignRepository.insertLog(campaignID, line, Timestamp.now(), conn) }
    }

    static func insertLog(_ campaignID: String, _ line: String, _ now: String, _ conn: Connection) throws {
        try conn.run(
            "INSERT INTO campaign_logs (campaign_id, line, created_at) VALUES (?, ?, ?)",
            [.text(campaignID), .text(line), .text(now)])
    }

    /// The campaign's log lines in order; nil when there is no such campaign.
    public func logs(campaignID: String) throws -> [LogLine]? {
        try database.read { conn in
            guard try CampaignRepository.fetch(campaignID, conn) != nil else { return nil }
            return try conn.query(
                "SELECT line, created_at FROM campaign_logs WHERE campaign_id = ? ORDER BY id", [.text(campaignID)]
            ).map { LogLine(line: $0.string(0) ?? "", createdAt: $0.string(1) ?? "") }
        }
    }
}

extension Store {
    public var campaigns: CampaignRepository { CampaignRepository(database: database) }
}
