import KittJSON
import KittSQLite

/// Agents, their settings, engines and queued commands.
///
/// Writes that agents make at a high rate (register, heartbeat, result reports) go through
/// `Database.writeAsync`, so concurrent agents share one commit; each is one transaction
/// body, so e.g. two concurrent heartbeats can never be handed the same command.
public struct AgentRepository: Sendable {
    public let database: Database

    public init(database: Database) {
        self.database = database
    }

    public typealias Completion<T> = @Sendable (Result<T, any Error>) -> Void

    static let columns = """
        id, name, hostname, port, gpu_info, gpu_count, cpu_info, cpu_arch, ram_gb, environment_type,
        fingerprint, kitt_version, capabilities, hardware_details, status, current_task,
        gpu_utilization_pct, gpu_memory_used_gb, storage_gb_free, uptime_s, notes, tags,
        registered_at, last_heartbeat, updated_at
        """

    // MARK: Identity and auth

    /// By id, else by name.
    public func identity(idOrName: String) throws -> AgentIdentity? {
        try database.read { try AgentRepository.identity($0, idOrName: idOrName) }
    }

    /// The agent holding the token whose SHA-256 hex is `tokenHash`.
    public func identity(tokenHash: String) throws -> AgentIdentity? {
        try database.read { connection in
            try connection.queryOne(
                "SELECT id, name, token_hash, status, last_heartbeat FROM agents WHERE lower(token_hash) = ?",
                [.text(tokenHash.lowercased())]
            ).map(AgentRepository.identity)
        }
    }

    /// By name only.
    public func identity(name: String) throws -> AgentIdentity? {
        try database.read { connection in
            try connection.queryOne(
                "SELECT id, name, token_hash, status, last_heartbeat FROM agents WHERE name = ?", [.text(name)]
            ).map(AgentRepository.identity)
        }
    }

    static func identity(_ connection: Connection, idOrName: String) throws -> AgentIdentity? {
        let sql = "SELECT id, name, token_hash, status, last_heartbeat FROM agents WHERE "
        if let row = try connection.queryOne(sql + "id = ?", [.text(idOrName)]) { return identity(row) }
        return try connection.queryOne(sql + "name = ?", [.text(idOrName)]).map(identity)
    }

    static func identity(_ row: Row) -> AgentIdentity {
        AgentIdentity(
            id: row.string(0) ?? "", name: row.string(1) ?? "", tokenHash: row.string(2),
            status: AgentStatus(rawValue: row.string(3) ?? ""), lastHeartbeat: row.string(4))
    }

    /// Gives the agent called `name` a new token (creating a `provisioned` agent if there is
    /// none), so only the holder of the new token can act as it. Returns the agent id.
    /// `rotate` false (no admin token, SPEC §7.2): an agent called `name` that exists by the
    /// time of the write is `.forbidden`, so two racing fetches cannot both get a token.
    @discardableResult
    public func provisionToken(name: String, port: Int, tokenHash: String, rotate: Bool = true) throws -> String {
        try database.write { connection in
            let now = Timestamp.now()
            if try connection.queryOne("SELECT 1 FROM agents WHERE id = ?", [.text(name)]) != nil {
                throw AgentStoreError.nameIsAnID
            }
            if let row = try connection.queryOne("SELECT id FROM agents WHERE name = ?", [.text(name)]),
                let id = row.string(0)
            {
                guard rotate else { throw AgentStoreError.forbidden }
                try connection.run(
                    "UPDATE agents SET token_hash = ?, updated_at = ? WHERE id = ?", [.text(tokenHash), .text(now), .text(id)])
                return id
            }
            let id = StoreID.make()
            try connection.run(
                """
                INSERT INTO agents (id, name, port, status, token_hash, registered_at, updated_at)
                VALUES (?, ?, ?, 'provisioned', ?, ?, ?)
                """, [.text(id), .text(name), SQLiteValue(port), .text(tokenHash), .text(now), .text(now)])
            try AgentRepository.insertDefaultSettings(connection, agentID: id)
            return id
        }
    }

    /// Records the token of a nameless install.sh (hashed). No agent row exists until it
    /// registers; then the token becomes that agent's (`register(..., installTokenHash:)`).
    public func recordInstallToken(hash: String, port: Int) throws {
        try database.write { connection in
            try connection.run(
                "INSERT OR REPLACE INTO agent_install_tokens (token_hash, port, created_at) VALUES (?, ?, ?)",
                [.text(hash), SQLiteValue(port), .text(Timestamp.now())])
        }
    }

    /// True when `hash` is a nameless install.sh token created after `createdAfter`.
    public func installTokenIsPending(hash: String, createdAfter: String) throws -> Bool {
        try database.read { connection in
            try connection.queryOne(
                "SELECT 1 FROM agent_install_tokens WHERE token_hash = ? AND created_at >= ?",
                [.text(hash.lowercased()), .text(createdAfter)]) != nil
        }
    }

    /// Agents provisioned but never registered, plus nameless install tokens: what
    /// unauthenticated install.sh fetches can create (the route caps it).
    public func unregisteredCount() throws -> Int {
        try database.read { connection in
            let agents = try connection.queryOne("SELECT COUNT(*) FROM agents WHERE status = 'provisioned'")?.int(0) ?? 0
            let tokens = try connection.queryOne("SELECT COUNT(*) FROM agent_install_tokens")?.int(0) ?? 0
            return agents + tokens
        }
    }

    /// Removes provisioned agents not provisioned again (nor edited) since `cutoff` that never
    /// registered, and nameless install tokens older than it. Returns the removed agents.
    public func removeUnregistered(before cutoff: String) throws -> [(id: String, name: String)] {
        try database.write { connection in
            let rows = try connection.query(
                "SELECT id, name FROM agents WHERE status = 'provisioned' AND updated_at < ?", [.text(cutoff)])
            var removed: [(id: String, name: String)] = []
            for row in rows {
                guard let id = row.string(0) else { continue }
                try connection.run("DELETE FROM agents WHERE id = ?", [.text(id)])
                removed.append((id, row.string(1) ?? ""))
            }
            try connection.run("DELETE FROM agent_install_tokens WHERE created_at < ?", [.text(cutoff)])
            return removed
        }
    }

    // MARK: Register and heartbeat

    /// Registers (or updates, by name) an agent. With `tokenAgentID` (the request used that
    /// agent's token) the agent must be that one: a never-registered (provisioned) agent may
    /// take the name it registers with; another agent's name → `.forbidden`.
    /// With `installTokenHash` (a nameless install.sh token, unexpired as of `installTokenCutoff`)
    /// a new agent is created under the registered name and the token becomes its own; a name
    /// that exists already → `.forbidden` (only the admin may hand out its token).
    public func register(
        _ registration: AgentRegistration, tokenAgentID: String?, installTokenHash: String? = nil,
        installTokenCutoff: String = "", completion: @escaping Completion<RegisterOutcome>
    ) {
        database.writeAsync({ connection in
            try AgentRepository.register(
                connection, registration, tokenAgentID: tokenAgentID, installTokenHash: installTokenHash,
                installTokenCutoff: installTokenCutoff)
        }, completion: completion)
    }

    static func register(
        _ connection: Connection, _ r: AgentRegistration, tokenAgentID: String?, installTokenHash: String? = nil,
        installTokenCutoff: String = ""
    ) throws -> RegisterOutcome {
        let existing = try connection.queryOne("SELECT id FROM agents WHERE name = ?", [.text(r.name)])?.string(0)
        // Ids of any shape (KITT 1.x used UUIDs) are never names: lookups by id come first.
        if try connection.queryOne("SELECT 1 FROM agents WHERE id = ?", [.text(r.name)]) != nil {
            throw AgentStoreError.nameIsAnID
        }
        let now = Timestamp.now()
        let id: String
        if let installTokenHash {
            guard existing == nil else { throw AgentStoreError.forbidden }
            // Bound once: the pending row goes in the same transaction that creates the agent.
            guard try connection.run(
                "DELETE FROM agent_install_tokens WHERE token_hash = ? AND created_at >= ?",
                [.text(installTokenHash), .text(installTokenCutoff)]) > 0
            else { throw AgentStoreError.forbidden }
            id = StoreID.make()
            try connection.run(
                "INSERT INTO agents (id, name, token_hash, registered_at, updated_at) VALUES (?, ?, ?, ?, ?)",
                [.text(id), .text(r.name), .text(installTokenHash), .text(now), .text(now)])
        } else if let tokenAgentID {
            if let existing {
                guard existing == tokenAgentID else { throw AgentStoreError.forbidden }
            } else {
                // The token's agent takes this name only if it never registered under its own.
                let status = try connection.queryOne("SELECT status FROM agents WHERE id = ?", [.text(tokenAgentID)])?
                    .string(0).map(AgentStatus.init(rawValue:))
                guard status == .provisioned else { throw AgentStoreError.forbidden }
                try connection.run("UPDATE agents SET name = ? WHERE id = ?", [.text(r.name), .text(tokenAgentID)])
            }
            id = tokenAgentID
        } else if let existing {
            id = existing
        } else {
            id = StoreID.make()
            try connection.run(
                "INSERT INTO agents (id, name, registered_at, updated_at) VALUES (?, ?, ?, ?)",
                [.text(id), .text(r.name), .text(now), .text(now)])
        }
        try connection.run(
            """
            UPDATE agents SET hostname = ?, port = ?, gpu_info = ?, gpu_count = ?, cpu_info = ?, cpu_arch = ?,
                ram_gb = ?, environment_type = ?, fingerprint = ?, kitt_version = ?, capabilities = ?,
                hardware_details = ?, status = 'online', last_heartbeat = ?, updated_at = ?,
                registered_at = CASE WHEN status = 'provisioned' THEN ? ELSE registered_at END
            WHERE id = ?
            """,
            [.text(r.hostname), SQLiteValue(r.port), .text(r.gpuInfo), SQLiteValue(r.gpuCount), .text(r.cpuInfo),
             .text(r.cpuArch), .real(r.ramGB), .text(r.environmentType), .text(r.fingerprint), .text(r.kittVersion),
             .text(stringArray(r.capabilities)), .text(r.hardwareDetails), .text(now), .text(now), .text(now),
             .text(id)])
        try insertDefaultSettings(connection, agentID: id)
        let interval = try connection.queryOne(
            "SELECT value FROM agent_settings WHERE agent_id = ? AND key = 'heartbeat_interval_s'", [.text(id)])?
            .string(0).flatMap { Int($0) } ?? 30
        return RegisterOutcome(agentID: id, name: r.name, heartbeatIntervalSeconds: interval)
    }

    /// Records a heartbeat for the agent `idOrName` and hands out at most one queued command
    /// (oldest first), marking it — and its quick test — dispatched in the same transaction.
    /// `offlineCutoff`: heartbeats older than this timestamp count as offline.
    public func heartbeat(
        idOrName: String, _ beat: AgentHeartbeat, offlineCutoff: String, completion: @escaping Completion<HeartbeatOutcome>
    ) {
        database.writeAsync({ connection in
            try AgentRepository.heartbeat(connection, idOrName: idOrName, beat, offlineCutoff: offlineCutoff)
        }, completion: completion)
    }

    static func heartbeat(_ connection: Connection, idOrName: String, _ beat: AgentHeartbeat, offlineCutoff: String)
        throws -> HeartbeatOutcome
    {
        guard let agent = try identity(connection, idOrName: idOrName) else { throw AgentStoreError.notFound }
        let shownBefore = shownStatus(agent.status, lastHeartbeat: agent.lastHeartbeat, cutoff: offlineCutoff)
        let status = beat.status ?? .online
        let now = Timestamp.now()
        try connection.run(
            """
            UPDATE agents SET status = ?, current_task = COALESCE(?, current_task),
                gpu_utilization_pct = COALESCE(?, gpu_utilization_pct),
                gpu_memory_used_gb = COALESCE(?, gpu_memory_used_gb),
                storage_gb_free = COALESCE(?, storage_gb_free), uptime_s = COALESCE(?, uptime_s),
                last_heartbeat = ?, updated_at = ?
            WHERE id = ?
            """,
            [.text(status.rawValue), SQLiteValue(beat.currentTask), SQLiteValue(beat.gpuUtilizationPct),
             SQLiteValue(beat.gpuMemoryUsedGB), SQLiteValue(beat.storageGBFree), SQLiteValue(beat.uptimeS),
             .text(now), .text(now), .text(agent.id)])
        for engine in beat.engines {
            try connection.run(
                """
                INSERT INTO agent_engines (agent_id, engine, installed, running, version, binary_path, updated_at)
                VALUES (?, ?, ?, ?, ?, ?, ?)
                ON CONFLICT (agent_id, engine) DO UPDATE SET installed = excluded.installed,
                    running = excluded.running, version = excluded.version,
                    binary_path = excluded.binary_path, updated_at = excluded.updated_at
                """,
                [.text(agent.id), .text(engine.engine), SQLiteValue(engine.installed), SQLiteValue(engine.running),
                 .text(engine.version), .text(engine.binaryPath), .text(now)])
        }
        if !beat.engines.isEmpty {
            let kept = try connection.queryOne(
                "SELECT COUNT(*) FROM agent_engines WHERE agent_id = ?", [.text(agent.id)])?.int(0) ?? 0
            // Thrown inside the transaction: the whole heartbeat rolls back.
            guard kept <= AgentHeartbeat.maxEngines else { throw AgentStoreError.tooManyEngines }
        }
        var command: HandedOutCommand?
        var dispatchedTest: QuickTest?
        if let row = try connection.queryOne(
            """
            SELECT id, test_id, type, payload FROM agent_commands
            WHERE agent_id = ? AND status = 'queued' ORDER BY created_at, rowid LIMIT 1
            """, [.text(agent.id)]), let commandID = row.string(0)
        {
            try connection.run(
                "UPDATE agent_commands SET status = 'dispatched', dispatched_at = ? WHERE id = ?",
                [.text(now), .text(commandID)])
            let payload = (try? JSON(parsing: Array((row.string(3) ?? "{}").utf8))) ?? .object(JSONObject())
            command = HandedOutCommand(id: commandID, testID: row.string(1), type: row.string(2) ?? "", payload: payload)
            if let testID = row.string(1) { dispatchedTest = try QuickTestRepository.markDispatched(testID: testID, connection) }
        }
        let settings = try settings(connection, agentID: agent.id)
        return HeartbeatOutcome(
            agentID: agent.id, name: agent.name, status: status, statusChanged: shownBefore != status,
            command: command, dispatchedTest: dispatchedTest, settings: settings)
    }

    // MARK: Results and commands

    /// An agent's report: with `document`, stores the run, links the quick test whose id or
    /// command id is given (`UPDATE quick_tests SET result_id ...`) and marks the command done,
    /// all in one transaction; completion after COMMIT. Returns the new result id and the
    /// quick test the report names (by `testID`, else by `commandID`).
    ///
    /// `scoped` (the caller used the agent's own token, SPEC §7.2): the test and command
    /// named must be this agent's, else `.unknownWork` and nothing is written.
    public func report(
        agentIDOrName: String, document: ResultDocument?, commandID: String?, testID: String?, finished: Bool,
        failed: Bool = false, scoped: Bool = false, completion: @escaping Completion<ReportOutcome>
    ) {
        database.writeAsync({ connection -> ReportOutcome in
            guard let agent = try AgentRepository.identity(connection, idOrName: agentIDOrName) else {
                throw AgentStoreError.notFound
            }
            if scoped {
                try AgentRepository.requireOwnWork(connection, agentID: agent.id, testID: testID, commandID: commandID)
            }
            var resultID: String?
            if let document {
                let id = connection.state(StoreID.Rotating.self) { StoreID.Rotating() }.make()
                try ResultsRepository.insert(document, id: id, into: connection)
                resultID = id
                for key in [testID, commandID].compactMap({ $0 }) {
                    try connection.run(
                        "UPDATE quick_tests SET result_id = ? WHERE id = ? OR command_id = ?",
                        [.text(id), .text(key), .text(key)])
                }
            }
            var finishedCommand: FinishedCommand?
            if let commandID, document != nil || finished {
                let status: CommandStatus = failed ? .failed : .done
                // Only a command still open changes (and is reported once): a repeated report
                // finds it finished already.
                let row = try connection.queryOne(
                    """
                    UPDATE agent_commands SET status = ? WHERE id = ? AND agent_id = ? AND status IN ('queued', 'dispatched')
                    RETURNING type, test_id
                    """, [.text(status.rawValue), .text(commandID), .text(agent.id)])
                if let row, row.string(1) == nil, let type = row.string(0) {
                    finishedCommand = FinishedCommand(id: commandID, type: type, agentID: agent.id, status: status)
                }
            }
            var reportedTest = testID
            if reportedTest == nil, let commandID {
                reportedTest = try connection.queryOne(
                    "SELECT id FROM quick_tests WHERE command_id = ?", [.text(commandID)])?.string(0)
            }
            return ReportOutcome(resultID: resultID, testID: reportedTest, finishedCommand: finishedCommand)
        }, completion: completion)
    }

    /// The quick test `testID` and the command `commandID` (when given) belong to `agentID`;
    /// anything else — another agent's, or nothing at all — is `.unknownWork`.
    static func requireOwnWork(_ connection: Connection, agentID: String, testID: String?, commandID: String?) throws {
        if let testID {
            let owner = try connection.queryOne("SELECT agent_id FROM quick_tests WHERE id = ?", [.text(testID)])?.string(0)
            guard owner == agentID else { throw AgentStoreError.unknownWork(field: "test_id", value: testID) }
        }
        if let commandID {
            let owner =
                try connection.queryOne("SELECT agent_id FROM agent_commands WHERE id = ?", [.text(commandID)])?.string(0)
                ?? connection.queryOne("SELECT agent_id FROM quick_tests WHERE command_id = ?", [.text(commandID)])?
                .string(0)
            guard owner == agentID else { throw AgentStoreError.unknownWork(field: "command_id", value: commandID) }
        }
    }

    /// Queues a command for the agent (the next heartbeat hands it out). Returns its id.
    public func queueCommand(agentID: String, type: String, testID: String? = nil, payload: JSON) throws -> String {
        try database.write { connection in
            try AgentRepository.queueCommand(connection, agentID: agentID, type: type, testID: testID, payload: payload)
        }
    }

    public func queueCommand(
        agentID: String, type: String, testID: String? = nil, payload: JSON, completion: @escaping Completion<String>
    ) {
        database.writeAsync({ connection in
            try AgentRepository.queueCommand(connection, agentID: agentID, type: type, testID: testID, payload: payload)
        }, completion: completion)
    }

    /// For repositories composing it into their own transaction (quick tests, campaigns).
    /// Throws `.notFound` when the agent does not exist.
    public static func queueCommand(
        _ connection: Connection, agentID: String, type: String, testID: String?, payload: JSON
    ) throws -> String {
        guard try connection.queryOne("SELECT 1 FROM agents WHERE id = ?", [.text(agentID)]) != nil else {
            throw AgentStoreError.notFound
        }
        let id = StoreID.make()
        try connection.run(
            "INSERT INTO agent_commands (id, agent_id, test_id, type, payload, created_at) VALUES (?, ?, ?, ?, ?, ?)",
            [.text(id), .text(agentID), SQLiteValue(testID), .text(type), .text(payload.jsonString),
             .text(Timestamp.now())])
        return id
    }

    // MARK: Reading

    /// Agents by name, with `status` computed against `offlineCutoff` (exact, not waiting
    /// for the monitor). `Agent` has no token field: the hash never leaves the store.
    public func list(limit: Int, offset: Int, offlineCutoff: String) throws -> (total: Int, items: [Agent]) {
        try database.read { connection in
            let total = try connection.queryOne("SELECT COUNT(*) FROM agents")?.int(0) ?? 0
            let rows = try connection.query(
                "SELECT \(AgentRepository.columns) FROM agents ORDER BY name LIMIT ? OFFSET ?",
                [SQLiteValue(limit), SQLiteValue(offset)])
            return (total, rows.map { AgentRepository.agent($0, cutoff: offlineCutoff, engines: nil) })
        }
    }

    /// One agent (by id, else name) with its engines, or nil.
    public func get(idOrName: String, offlineCutoff: String) throws -> Agent? {
        try database.read { connection in
            guard let agent = try AgentRepository.identity(connection, idOrName: idOrName),
                let row = try connection.queryOne(
                    "SELECT \(AgentRepository.columns) FROM agents WHERE id = ?", [.text(agent.id)])
            else { return nil }
            let engines = try AgentRepository.reportedEngines(connection, agentID: agent.id)
            return AgentRepository.agent(row, cutoff: offlineCutoff, engines: engines)
        }
    }

    /// What the API shows: the stored status while heartbeats are fresh, else `offline`.
    static func shownStatus(_ stored: AgentStatus, lastHeartbeat: String?, cutoff: String) -> AgentStatus {
        guard let lastHeartbeat, lastHeartbeat >= cutoff else { return .offline }
        return stored
    }

    /// A row of `columns`. Missing text reads as "", missing numbers as nil, and the JSON array
    /// columns (capabilities, tags) as their elements ([] when the text is not an array).
    static func agent(_ row: Row, cutoff: String, engines: [ReportedEngine]?) -> Agent {
        func text(_ i: Int) -> String { row.string(i) ?? "" }
        func array(_ i: Int) -> [JSON] { (try? JSON(parsing: Array((row.string(i) ?? "[]").utf8)))?.arrayValue ?? [] }
        return Agent(
            id: text(0), name: text(1), hostname: text(2), port: row.int(3) ?? 0, gpuInfo: text(4),
            gpuCount: row.int(5) ?? 0, cpuInfo: text(6), cpuArch: text(7), ramGB: row.double(8),
            environmentType: text(9), fingerprint: text(10), kittVersion: text(11), capabilities: array(12),
            hardwareDetails: text(13),
            status: shownStatus(AgentStatus(rawValue: text(14)), lastHeartbeat: row.string(23), cutoff: cutoff),
            currentTask: text(15), gpuUtilizationPct: row.double(16), gpuMemoryUsedGB: row.double(17),
            storageGBFree: row.double(18), uptimeS: row.double(19), notes: text(20), tags: array(21),
            registeredAt: text(22), lastHeartbeat: row.string(23), updatedAt: text(24), engines: engines)
    }

    // MARK: Updating and deleting

    /// PATCH: notes and/or tags. False when the agent is unknown.
    public func update(idOrName: String, notes: String?, tags: [String]?) throws -> Bool {
        try database.write { connection in
            guard let agent = try AgentRepository.identity(connection, idOrName: idOrName) else { return false }
            try connection.run(
                "UPDATE agents SET notes = COALESCE(?, notes), tags = COALESCE(?, tags), updated_at = ? WHERE id = ?",
                [SQLiteValue(notes), SQLiteValue(tags.map(AgentRepository.stringArray)), .text(Timestamp.now()),
                 .text(agent.id)])
            return true
        }
    }

    /// Deletes the agent; settings, engines and commands cascade. Quick tests and campaigns
    /// have no foreign key to agents and stay. False when unknown.
    public func delete(idOrName: String) throws -> Bool {
        try database.write { connection in
            guard let agent = try AgentRepository.identity(connection, idOrName: idOrName) else { return false }
            return try connection.run("DELETE FROM agents WHERE id = ?", [.text(agent.id)]) > 0
        }
    }

    /// Every setting (defaults filled in), or nil when the agent is unknown.
    public func settings(idOrName: String) throws -> [(key: String, value: String)]? {
        try database.read { connection in
            guard let agent = try AgentRepository.identity(connection, idOrName: idOrName) else { return nil }
            return try AgentRepository.settings(connection, agentID: agent.id)
        }
    }

    /// Stores the given (already validated, string) values. False when the agent is unknown.
    public func updateSettings(idOrName: String, _ values: [(key: String, value: String)]) throws -> Bool {
        try database.write { connection in
            guard let agent = try AgentRepository.identity(connection, idOrName: idOrName) else { return false }
            for (key, value) in values {
                try connection.run(
                    """
                    INSERT INTO agent_settings (agent_id, key, value) VALUES (?, ?, ?)
                    ON CONFLICT (agent_id, key) DO UPDATE SET value = excluded.value
                    """, [.text(agent.id), .text(key), .text(value)])
            }
            return true
        }
    }

    static func settings(_ connection: Connection, agentID: String) throws -> [(key: String, value: String)] {
        var stored: [String: String] = [:]
        for row in try connection.query("SELECT key, value FROM agent_settings WHERE agent_id = ?", [.text(agentID)]) {
            if let key = row.string(0) { stored[key] = row.string(1) ?? "" }
        }
        return AgentSettings.defaults.map { ($0.key, stored[$0.key] ?? $0.value) }
    }

    static func insertDefaultSettings(_ connection: Connection, agentID: String) throws {
        for (key, value) in AgentSettings.defaults {
            try connection.run(
                "INSERT OR IGNORE INTO agent_settings (agent_id, key, value) VALUES (?, ?, ?)",
                [.text(agentID), .text(key), .text(value)])
        }
    }

    // MARK: Offline sweep

    /// Marks agents whose last heartbeat is older than `cutoff` as offline; returns them.
    public func markOffline(cutoff: String) throws -> [(id: String, name: String)] {
        try database.write { connection in
            let rows = try connection.query(
                """
                SELECT id, name FROM agents
                WHERE status NOT IN ('offline', 'provisioned') AND (last_heartbeat IS NULL OR last_heartbeat < ?)
                """, [.text(cutoff)])
            var marked: [(id: String, name: String)] = []
            for row in rows {
                guard let id = row.string(0) else { continue }
                try connection.run("UPDATE agents SET status = 'offline' WHERE id = ?", [.text(id)])
                marked.append((id, row.string(1) ?? ""))
            }
            return marked
        }
    }

    static func stringArray(_ values: [String]) -> String {
        JSON.array(values.map { .string($0) }).jsonString
    }
}

extension Store {
    public var agents: AgentRepository { AgentRepository(database: database) }
}
