import KittJSON
import KittSQLite

/// One quick test: a single model × engine × benchmark run on one agent (standalone or for a campaign).
public struct QuickTest: Sendable, Equatable {
    public var id: String
    public var agentID: String
    public var agentName: String
    public var modelPath: String
    public var engineName: String
    public var benchmarkName: String
    public var suiteName: String
    public var engineMode: String
    public var profileID: String?
    public var status: QuickTestStatus
    public var commandID: String?
    public var campaignID: String?
    public var resultID: String?
    public var error: String?
    public var createdAt: String
    public var startedAt: String?
    public var completedAt: String?

    /// Finished (see `QuickTestStatus`): a late report never moves it back.
    public var isFinished: Bool { status.isFinished }
}

/// What a new quick test needs; the repository fills in ids, timestamps and the command.
public struct NewQuickTest: Sendable {
    public var agentID: String
    public var agentName: String
    public var modelPath: String
    public var engineName: String
    public var benchmarkName: String = "throughput"
    public var suiteName: String = "quick"
    public var engineMode: String = "docker"
    public var profileID: String?
    public var campaignID: String?

    public init(agentID: String, agentName: String, modelPath: String, engineName: String) {
        self.agentID = agentID
        self.agentName = agentName
        self.modelPath = modelPath
        self.engineName = engineName
    }
}

/// The few agent columns quick tests and campaigns need (the agents aggregate is elsewhere).
public struct AgentSummary: Sendable, Equatable {
    public var id: String
    public var name: String
    public var cpuArch: String
    public var tokenHash: String?
}

/// A stored log line.
public struct LogLine: Sendable, Equatable {
    public var line: String
    public var createdAt: String
}

/// What a status change did: the test as it is now, and whether it changed (publish only then).
public struct StatusTransition: Sendable, Equatable {
    public var test: QuickTest
    public var changed: Bool
}

/// A queued agent command (what heartbeats hand out).
public struct AgentCommand: Sendable, Equatable {
    public var id: String
    public var agentID: String
    public var testID: String?
    public var type: String
    public var payload: String
    public var status: CommandStatus
}

public struct QuickTestRepository: Sendable {
    public let database: Database

    public init(database: Database) {
        self.database = database
    }

    static let columns = """
        id, agent_id, agent_name, model_path, engine_name, benchmark_name, suite_name, engine_mode,
        profile_id, status, command_id, campaign_id, result_id, error, created_at, started_at, completed_at
        """

    static func decode(_ row: Row) -> QuickTest {
        QuickTest(
            id: row.string(0) ?? "", agentID: row.string(1) ?? "", agentName: row.string(2) ?? "",
            modelPath: row.string(3) ?? "", engineName: row.string(4) ?? "", benchmarkName: row.string(5) ?? "",
            suiteName: row.string(6) ?? "", engineMode: row.string(7) ?? "", profileID: row.string(8),
            status: QuickTestStatus(rawValue: row.string(9) ?? ""), commandID: row.string(10), campaignID: row.string(11),
            resultID: row.string(12), error: row.string(13), createdAt: row.string(14) ?? "",
            startedAt: row.string(15), completedAt: row.string(16))
    }

    // MARK: Agents (read-only view)

    /// The agent with this id, else the one with this name (an id always wins: SPEC §7.1).
    public func agent(idOrName: String) throws -> AgentSummary? {
        try database.read { conn in
            let sql = "SELECT id, name, cpu_arch, token_hash FROM agents WHERE "
            let row = try conn.queryOne(sql + "id = ?", [.text(idOrName)])
                ?? conn.queryOne(sql + "name = ?", [.text(idOrName)])
            return row.map(QuickTestRepository.decodeAgent)
        }
    }

    public func agents() throws -> [AgentSummary] {
        try database.read { conn in
            try conn.query("SELECT id, name, cpu_arch, token_hash FROM agents ORDER BY name").map(
                QuickTestRepository.decodeAgent)
        }
    }

    static func decodeAgent(_ row: Row) -> AgentSummary {
        AgentSummary(id: row.string(0) ?? "", name: row.string(1) ?? "", cpuArch: row.string(2) ?? "",
            tokenHash: row.string(3))
    }

    // MARK: Creating

    /// Inserts the quick test and its `run_test` agent command in one transaction.
    public func create(_ new: NewQuickTest) throws -> QuickTest {
        try database.write { conn in try QuickTestRepository.insert(new, conn) }
    }

    static func insert(_ new: NewQuickTest, _ conn: Connection) throws -> QuickTest {
        let now = Timestamp.now()
        let test = QuickTest(
            id: StoreID.make(), agentID: new.agentID, agentName: new.agentName, modelPath: new.modelPath,
            engineName: new.engineName, benchmarkName: new.benchmarkName, suiteName: new.suiteName,
            engineMode: new.engineMode, profileID: new.profileID, status: "queued", commandID: StoreID.make(),
            campaignID: new.campaignID, resultID: nil, error: nil, createdAt: now, startedAt: nil, completedAt: nil)
        let payload = JSON.object(
            JSONObject([
                ("model_path", .string(test.modelPath)),
                ("engine_name", .string(test.engineName)),
                ("benchmark_name", .string(test.benchmarkName)),
                ("suite_name", .string(test.suiteName)),
                ("engine_mode", .string(test.engineMode)),
                ("profile_id", test.profileID.map(JSON.string) ?? .null),
            ]))
        try conn.run(
            """
            INSERT INTO quick_tests (id, agent_id, agent_name, model_path, engine_name, benchmark_name, suite_name,
                engine_mode, profile_id, status, command_id, campaign_id, created_at)
            VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, 'queued', ?, ?, ?)
            """,
            [
                .text(test.id), .text(test.agentID), .text(test.agentName), .text(test.modelPath),
                .text(test.engineName), .text(test.benchmarkName), .text(test.suiteName), .text(test.engineMode),
                SQLiteValue(test.profileID), SQLiteValue(test.commandID), SQLiteValue(test.campaignID), .text(now),
            ])
        try conn.run(
            """
            INSERT INTO agent_commands (id, agent_id, test_id, type, payload, status, created_at)
            VALUES (?, ?, ?, 'run_test', ?, 'queued', ?)
            """,
            [SQLiteValue(test.commandID), .text(test.agentID), .text(test.id), .text(payload.jsonString), .text(now)])
        return test
    }

    // MARK: Reading

    /// The quick test a command was queued for.
    public func find(commandID: String) throws -> QuickTest? {
        try database.read { conn in
            try conn.queryOne("SELECT \(QuickTestRepository.columns) FROM quick_tests WHERE command_id = ?", [.text(commandID)])
                .map(QuickTestRepository.decode)
        }
    }

    public func get(id: String) throws -> QuickTest? {
        try database.read { conn in
            try conn.queryOne("SELECT \(QuickTestRepository.columns) FROM quick_tests WHERE id = ?", [.text(id)])
                .map(QuickTestRepository.decode)
        }
    }

    /// Newest first, optionally filtered by status and agent name; with the total before paging.
    public func list(status: QuickTestStatus?, agentName: String?, campaignID: String? = nil, limit: Int, offset: Int) throws -> (
        items: [QuickTest], total: Int
    ) {
        var conditions: [String] = []
        var bindings: [SQLiteValue] = []
        if let campaignID {
            conditions.append("campaign_id = ?")
            bindings.append(.text(campaignID))
        }
        if let status {
            conditions.append("status = ?")
            bindings.append(.text(status.rawValue))
        }
        if let agentName {
            conditions.append("agent_name = ?")
            bindings.append(.text(agentName))
        }
        let filter = conditions.isEmpty ? "" : " WHERE " + conditions.joined(separator: " AND ")
        return try database.read { conn in
            let total = try conn.queryOne("SELECT COUNT(*) FROM quick_tests" + filter, bindings)?.int(0) ?? 0
            let rows = try conn.query(
                "SELECT \(QuickTestRepository.columns) FROM quick_tests\(filter) ORDER BY created_at DESC, id LIMIT ? OFFSET ?",
                bindings + [.integer(Int64(limit)), .integer(Int64(offset))])
            return (rows.map(QuickTestRepository.decode), total)
        }
    }

    /// Tests still queued, dispatched or running whose start (or creation, if never started) is before `cutoff`.
    public func unfinished(startedBefore cutoff: String) throws -> [QuickTest] {
        try database.read { conn in
            try conn.query(
                """
                SELECT \(QuickTestRepository.columns) FROM quick_tests
                WHERE status IN ('queued', 'dispatched', 'running') AND COALESCE(started_at, created_at) < ?
                """, [.text(cutoff)]
            ).map(QuickTestRepository.decode)
        }
    }

    /// An agent's commands, oldest first, optionally only those with `status` (for inspection:
    /// the heartbeat hands commands out with its own claiming UPDATE).
    public func commands(agentID: String, status: CommandStatus? = nil) throws -> [AgentCommand] {
        try database.read { conn in
            var sql = "SELECT id, agent_id, test_id, type, payload, status FROM agent_commands WHERE agent_id = ?"
            var bindings: [SQLiteValue] = [.text(agentID)]
            if let status {
                sql += " AND status = ?"
                bindings.append(.text(status.rawValue))
            }
            return try conn.query(sql + " ORDER BY created_at, rowid", bindings).map { row in
                AgentCommand(id: row.string(0) ?? "", agentID: row.string(1) ?? "", testID: row.string(2),
                    type: row.string(3) ?? "", payload: row.string(4) ?? "{}", status: CommandStatus(rawValue: row.string(5) ?? ""))
            }
        }
    }

    // MARK: Status and logs

    /// Sets the status; `running` stamps `started_at` (once), a finished status `completed_at`.
    /// A test that stops while its command was never handed out also retires the command.
    /// Returns the updated test, nil when there is none.
    /// With `agentID` (an agent's own token) only that agent's test changes (nil otherwise).
    public func setStatus(id: String, status: QuickTestStatus, error: String?, agentID: String? = nil) throws -> QuickTest? {
        try transition(id: id, to: status, error: error, agentID: agentID)?.test
    }

    /// `setStatus`, also saying whether anything changed (callers publish an event only then).
    public func transition(id: String, to status: QuickTestStatus, error: String?, agentID: String? = nil) throws
        -> StatusTransition?
    {
        try database.write { conn in
            try QuickTestRepository.transition(id: id, to: status, error: error, agentID: agentID, conn)
        }
    }

    static func setStatus(id: String, status: QuickTestStatus, error: String?, agentID: String? = nil, _ conn: Connection)
        throws -> QuickTest?
    {
        try transition(id: id, to: status, error: error, agentID: agentID, conn)?.test
    }

    /// One state change happens once (SPEC §7.1 "events once"): the status the test already
    /// has is not set again (a result report that completed the test, then the agent's
    /// `completed` status), and a finished test never goes back to queued/dispatched/running
    /// (a late report). Finished → another finished status is allowed (an agent's real
    /// outcome after the timeout sweep failed the test). With `agentID`, another agent's test
    /// is as good as missing (nil).
    static func transition(id: String, to status: QuickTestStatus, error: String?, agentID: String? = nil, _ conn: Connection)
        throws -> StatusTransition?
    {
        guard let current = try fetch(id, conn) else { return nil }
        if let agentID, current.agentID != agentID { return nil }
        let finished = status.isFinished
        if current.status == status || (current.isFinished && !finished) {
            return StatusTransition(test: current, changed: false)
        }
        let now = Timestamp.now()
        try conn.run(
            """
            UPDATE quick_tests SET status = ?, error = ?,
                started_at = CASE WHEN ? = 'running' THEN COALESCE(started_at, ?) ELSE started_at END,
                completed_at = CASE WHEN ? THEN ? ELSE NULL END
            WHERE id = ? AND (? IS NULL OR agent_id = ?)
            """,
            [.text(status.rawValue), SQLiteValue(error), .text(status.rawValue), .text(now), SQLiteValue(finished), .text(now), .text(id),
             SQLiteValue(agentID), SQLiteValue(agentID)])
        if finished {
            try conn.run(
                "UPDATE agent_commands SET status = 'done' WHERE test_id = ? AND status = 'queued'", [.text(id)])
        }
        guard let updated = try fetch(id, conn) else { return nil }
        return StatusTransition(test: updated, changed: true)
    }

    /// queued → dispatched, when a heartbeat hands out the test's command (in that
    /// heartbeat's transaction). Returns the test when it changed.
    public static func markDispatched(testID: String, _ conn: Connection) throws -> QuickTest? {
        let changes = try conn.run(
            "UPDATE quick_tests SET status = 'dispatched' WHERE id = ? AND status = 'queued'", [.text(testID)])
        guard changes > 0 else { return nil }
        return try fetch(testID, conn)
    }

    static func fetch(_ id: String, _ conn: Connection) throws -> QuickTest? {
        try conn.queryOne("SELECT \(columns) FROM quick_tests WHERE id = ?", [.text(id)]).map(decode)
    }

    /// What one test's log keeps at most (SPEC §7.2: 10,000 lines; and 4 MiB of text, so that
    /// `GET /quicktest/<id>/logs`, which anyone may call, stays a few MiB). Past either, each
    /// new line drops the oldest ones, so the end of a run (where its error is) is always there.
    public struct LogLimit: Sendable {
        public var lines: Int
        public var bytes: Int
        public init(lines: Int = 10_000, bytes: Int = 4 << 20) {
            self.lines = lines
            self.bytes = bytes
        }
        public static let standard = LogLimit()
    }

    /// Appends a log line through group commit (batched with concurrent writes; `completion` after
    /// COMMIT) with the test's agent id, nil when the test does not exist — or, with
    /// `agentID` (an agent's own token), when it is not that agent's test.
    public func appendLogAsync(
        testID: String, line: String, agentID: String? = nil, limit: LogLimit = .standard,
        completion: @escaping @Sendable (Result<String?, any Error>) -> Void
    ) {
        database.writeAsync(
            { conn -> String? in
                try QuickTestRepository.appendLog(conn, testID: testID, line: line, agentID: agentID, limit: limit)
            }, completion: completion)
    }

    static func appendLog(_ conn: Connection, testID: String, line: String, agentID: String?, limit: LogLimit) throws
        -> String?
    {
        guard
            let row = try conn.queryOne(
                "SELECT agent_id, log_count, log_bytes FROM quick_tests WHERE id = ?", [.text(testID)]),
            let owner = row.string(0)
        else { return nil }
        if let agentID, agentID != owner { return nil }
        try conn.run(
            "INSERT INTO quick_test_logs (test_id, line, created_at) VALUES (?, ?, ?)",
            [.text(testID), .text(line), .text(Timestamp.now())])
        var count = (row.int(1) ?? 0) + 1
        var bytes = (row.int(2) ?? 0) + line.utf8.count
        // Over a limit: the oldest lines go (an index range from the start; the new line stays).
        while count > 1, count > limit.lines || bytes > limit.bytes {
            let oldest = try conn.query(
                "SELECT id, length(CAST(line AS BLOB)) FROM quick_test_logs WHERE test_id = ? ORDER BY id LIMIT 32",
                [.text(testID)])
            var dropped: [Int64] = []
            for old in oldest where count > 1 && (count > limit.lines || bytes > limit.bytes) {
                guard let id = old.int64(0) else { continue }
                dropped.append(id)
                count -= 1
                bytes -= old.int(1) ?? 0
            }
            guard !dropped.isEmpty else { break }
            try conn.run(
                "DELETE FROM quick_test_logs WHERE id IN (\(dropped.map { _ in "?" }.joined(separator: ",")))",
                dropped.map { .integer($0) })
        }
        try conn.run(
            "UPDATE quick_tests SET log_count = ?, log_bytes = ? WHERE id = ?",
            [SQLiteValue(count), SQLiteValue(max(0, bytes)), .text(testID)])
        return owner
    }

    /// The log lines of a test in order; nil when the test does not exist.
    public func logs(testID: String) throws -> [LogLine]? {
        try database.read { conn in
            guard try conn.queryOne("SELECT 1 FROM quick_tests WHERE id = ?", [.text(testID)]) != nil else {
                return nil
            }
            return try conn.query(
                "SELECT line, created_at FROM quick_test_logs WHERE test_id = ? ORDER BY id", [.text(testID)]
            ).map { LogLine(line: $0.string(0) ?? "", createdAt: $0.string(1) ?? "") }
        }
    }
}

extension Store {
    public var quickTests: QuickTestRepository { QuickTestRepository(database: database) }
}
