import KittStore
import KittJSON
import KittPostgres

/// Agents on PostgreSQL, behaving as `AgentRepository` does. Several kitt instances may
/// serve the same agents: a heartbeat takes its command with `FOR UPDATE SKIP LOCKED`, so
/// concurrent heartbeats (to any instance) never hand out the same command twice.
public struct PostgresAgentRepository: AgentStoring {
    let store: PostgresStore

    static let identityColumns = "id, name, token_hash, status, last_heartbeat"

    // MARK: Identity

    public func identity(idOrName: String) throws -> AgentIdentity? {
        try store.pool.withConnection { try PostgresAgentRepository.identity($0, idOrName: idOrName) }
    }

    static func identity(_ connection: PostgresConnection, idOrName: String, lock: Bool = false) throws -> AgentIdentity? {
        let sql = "SELECT \(identityColumns) FROM agents WHERE "
        let suffix = lock ? " FOR UPDATE" : ""
        if let row = try connection.queryOne(sql + "id = $1" + suffix, [.text(idOrName)]) { return identity(row) }
        return try connection.queryOne(sql + "name = $1" + suffix, [.text(idOrName)]).map(identity)
    }

    static func identity(_ row: PostgresRow) -> AgentIdentity {
        AgentIdentity.stored(
            id: row.string(0) ?? "", name: row.string(1) ?? "", tokenHash: row.string(2),
            status: AgentStatus(rawValue: row.string(3) ?? ""), lastHeartbeat: row.string(4))
    }

    // MARK: Registration

    public func register(
        _ registration: AgentRegistration, tokenAgentID: String?, installTokenHash: String? = nil,
        installTokenCutoff: String = "", completion: @escaping Completion<RegisterOutcome>
    ) {
        store.transactionAsync({ connection in
            try PostgresAgentRepository.register(
                connection, registration, tokenAgentID: tokenAgentID, installTokenHash: installTokenHash,
                installTokenCutoff: installTokenCutoff)
        }, completion: completion)
    }

    /// The same rules as `AgentRepository.register`. Two instances registering one new name
    /// at once: the second INSERT conflicts on the name (`ON CONFLICT DO NOTHING`), and that
    /// registration then updates the agent the first one created.
    static func register(
        _ connection: PostgresConnection, _ r: AgentRegistration, tokenAgentID: String?, installTokenHash: String?,
        installTokenCutoff: String
    ) throws -> RegisterOutcome {
        if try connection.queryOne("SELECT 1 FROM agents WHERE id = $1", [.text(r.name)]) != nil {
            throw AgentStoreError.nameIsAnID
        }
        let existing = try connection.queryOne("SELECT id FROM agents WHERE name = $1", [.text(r.name)])?.string(0)
        let now = Timestamp.now()
        let id: String
        if let installTokenHash {
            guard existing == nil else { throw AgentStoreError.forbidden }
            guard try connection.run(
                "DELETE FROM agent_install_tokens WHERE token_hash = $1 AND created_at >= $2",
                [.text(installTokenHash), .text(installTokenCutoff)]) > 0
            else { throw AgentStoreError.forbidden }
            id = StoreID.make()
            try connection.run(
                "INSERT INTO agents (id, name, token_hash, registered_at, updated_at) VALUES ($1, $2, $3, $4, $4)",
                [.text(id), .text(r.name), .text(installTokenHash), .text(now)])
        } else if let tokenAgentID {
            if let existing {
                guard existing == tokenAgentID else { throw AgentStoreError.forbidden }
            } else {
                let status = try connection.queryOne(
                    "SELECT status FROM agents WHERE id = $1 FOR UPDATE", [.text(tokenAgentID)])?.string(0)
                guard status == "provisioned" else { throw AgentStoreError.forbidden }
                try connection.run("UPDATE agents SET name = $1 WHERE id = $2", [.text(r.name), .text(tokenAgentID)])
            }
            id = tokenAgentID
        } else if let existing {
            id = existing
        } else {
            let fresh = StoreID.make()
            let inserted = try connection.queryOne(
                """
                INSERT INTO agents (id, name, registered_at, updated_at) VALUES ($1, $2, $3, $3)
                ON CONFLICT (name) DO NOTHING RETURNING id
                """, [.text(fresh), .text(r.name), .text(now)])?.string(0)
            if let inserted {
                id = inserted
            } else {
                guard let raced = try connection.queryOne("SELECT id FROM agents WHERE name = $1", [.text(r.name)])?
                    .string(0)
                else { throw AgentStoreError.notFound }
                id = raced
            }
        }
        try connection.run(
            """
            UPDATE agents SET hostname = $1, port = $2, gpu_info = $3, gpu_count = $4, cpu_info = $5, cpu_arch = $6,
                ram_gb = $7, environment_type = $8, fingerprint = $9, kitt_version = $10, capabilities = $11,
                hardware_details = $12, status = 'online', last_heartbeat = $13, updated_at = $13,
                registered_at = CASE WHEN status = 'provisioned' THEN $13 ELSE registered_at END
            WHERE id = $14
            """,
            [.text(r.hostname), PostgresValue(r.port), .text(r.gpuInfo), PostgresValue(r.gpuCount), .text(r.cpuInfo),
             .text(r.cpuArch), .double(r.ramGB), .text(r.environmentType), .text(r.fingerprint), .text(r.kittVersion),
             .text(StoredRows.stringArray(r.capabilities)), .text(r.hardwareDetails), .text(now), .text(id)])
        try insertDefaultSettings(connection, agentID: id)
        let interval = try connection.queryOne(
            "SELECT value FROM agent_settings WHERE agent_id = $1 AND key = 'heartbeat_interval_s'", [.text(id)])?
            .string(0).flatMap { Int($0) } ?? 30
        return RegisterOutcome.stored(agentID: id, name: r.name, heartbeatIntervalSeconds: interval)
    }

    // MARK: Heartbeat

    public func heartbeat(
        idOrName: String, _ beat: AgentHeartbeat, offlineCutoff: String, completion: @escaping Completion<HeartbeatOutcome>
    ) {
        store.transactionAsync({ connection in
            try PostgresAgentRepository.heartbeat(connection, idOrName: idOrName, beat, offlineCutoff: offlineCutoff)
        }, completion: completion)
    }

    static func heartbeat(
        _ connection: PostgresConnection, idOrName: String, _ beat: AgentHeartbeat, offlineCutoff: String
    ) throws -> HeartbeatOutcome {
        guard let agent = try identity(connection, idOrName: idOrName) else { throw AgentStoreError.notFound }
        let shownBefore = StoredRows.shownStatus(agent.status, lastHeartbeat: agent.lastHeartbeat, cutoff: offlineCutoff)
        let status = beat.status ?? .online
        let now = Timestamp.now()
        try connection.run(
            """
            UPDATE agents SET status = $1, current_task = COALESCE($2, current_task),
                gpu_utilization_pct = COALESCE($3, gpu_utilization_pct),
                gpu_memory_used_gb = COALESCE($4, gpu_memory_used_gb),
                storage_gb_free = COALESCE($5, storage_gb_free), uptime_s = COALESCE($6, uptime_s),
                last_heartbeat = $7, updated_at = $7
            WHERE id = $8
            """,
            [.text(status.rawValue), PostgresValue(beat.currentTask), PostgresValue(beat.gpuUtilizationPct),
             PostgresValue(beat.gpuMemoryUsedGB), PostgresValue(beat.storageGBFree), PostgresValue(beat.uptimeS),
             .text(now), .text(agent.id)])
        for engine in beat.engines {
            try connection.run(
                """
                INSERT INTO agent_engines (agent_id, engine, installed, running, version, binary_path, updated_at)
                VALUES ($1, $2, $3, $4, $5, $6, $7)
                ON CONFLICT (agent_id, engine) DO UPDATE SET installed = excluded.installed,
                    running = excluded.running, version = excluded.version,
                    binary_path = excluded.binary_path, updated_at = excluded.updated_at
                """,
                [.text(agent.id), .text(engine.engine), .bool(engine.installed), .bool(engine.running),
                 .text(engine.version), .text(engine.binaryPath), .text(now)])
        }
        if !beat.engines.isEmpty {
            let kept = try connection.queryOne(
                "SELECT count(*) FROM agent_engines WHERE agent_id = $1", [.text(agent.id)])?.int(0) ?? 0
            guard kept <= AgentHeartbeat.maxEngines else { throw AgentStoreError.tooManyEngines }
        }
        var command: HandedOutCommand?
        var dispatchedTest: QuickTest?
        // Heartbeats for one agent already queue behind each other on the agent row (the
        // UPDATE above holds its lock until COMMIT), and READ COMMITTED gives each statement
        // a fresh snapshot, so the next heartbeat sees the command dispatched. SKIP LOCKED
        // keeps that true for anything else that takes commands without the agent row.
        if let row = try connection.queryOne(
            """
            SELECT id, test_id, type, payload FROM agent_commands
            WHERE agent_id = $1 AND status = 'queued' ORDER BY created_at, seq LIMIT 1
            FOR UPDATE SKIP LOCKED
            """, [.text(agent.id)]), let commandID = row.string(0)
        {
            try connection.run(
                "UPDATE agent_commands SET status = 'dispatched', dispatched_at = $1 WHERE id = $2",
                [.text(now), .text(commandID)])
            let payload = (try? JSON(parsing: Array((row.string(3) ?? "{}").utf8))) ?? .object(JSONObject())
            command = HandedOutCommand.stored(id: commandID, testID: row.string(1), type: row.string(2) ?? "", payload: payload)
            if let testID = row.string(1) { dispatchedTest = try markDispatched(testID: testID, connection) }
        }
        return HeartbeatOutcome.stored(
            agentID: agent.id, name: agent.name, status: status, statusChanged: shownBefore != status,
            command: command, dispatchedTest: dispatchedTest, settings: try settings(connection, agentID: agent.id))
    }

    /// queued → dispatched for the command's quick test (as `QuickTestRepository.markDispatched`).
    static func markDispatched(testID: String, _ connection: PostgresConnection) throws -> QuickTest? {
        try connection.queryOne(
            """
            UPDATE quick_tests SET status = 'dispatched' WHERE id = $1 AND status = 'queued'
            RETURNING \(StoredRows.quickTestColumns)
            """, [.text(testID)]
        ).map(PostgresQuickTestRepository.decode)
    }

    // MARK: Commands

    public func queueCommand(agentID: String, type: String, testID: String? = nil, payload: JSON) throws -> String {
        try store.pool.transaction { connection in
            try PostgresAgentRepository.queueCommand(connection, agentID: agentID, type: type, testID: testID, payload: payload)
        }
    }

    static func queueCommand(
        _ connection: PostgresConnection, agentID: String, type: String, testID: String?, payload: JSON
    ) throws -> String {
        guard try connection.queryOne("SELECT 1 FROM agents WHERE id = $1", [.text(agentID)]) != nil else {
            throw AgentStoreError.notFound
        }
        let id = StoreID.make()
        try connection.run(
            "INSERT INTO agent_commands (id, agent_id, test_id, type, payload, created_at) VALUES ($1, $2, $3, $4, $5, $6)",
            [.text(id), .text(agentID), PostgresValue(testID), .text(type), .text(payload.jsonString),
             .text(Timestamp.now())])
        return id
    }

    // MARK: Reading

    public func list(limit: Int, offset: Int, offlineCutoff: String) throws -> (total: Int, items: [Agent]) {
        try store.pool.transaction(isolation: .repeatableRead) { connection in
            let total = try connection.queryOne("SELECT count(*) FROM agents")?.int(0) ?? 0
            let rows = try connection.query(
                "SELECT \(StoredRows.agentColumns) FROM agents ORDER BY name LIMIT $1 OFFSET $2",
                [PostgresValue(max(0, limit)), PostgresValue(max(0, offset))]
            ).rows
            return (total, rows.map { PostgresAgentRepository.agent($0, cutoff: offlineCutoff, engines: nil) })
        }
    }

    public func get(idOrName: String, offlineCutoff: String) throws -> Agent? {
        try store.pool.transaction(isolation: .repeatableRead) { connection in
            guard let agent = try PostgresAgentRepository.identity(connection, idOrName: idOrName),
                let row = try connection.queryOne(
                    "SELECT \(StoredRows.agentColumns) FROM agents WHERE id = $1", [.text(agent.id)])
            else { return nil }
            let engines = try connection.query(
                """
                SELECT agent_id, engine, installed, running, version, binary_path, updated_at FROM agent_engines
                WHERE agent_id = $1 ORDER BY engine
                """, [.text(agent.id)]
            ).rows.map(PostgresAgentRepository.reportedEngine)
            return PostgresAgentRepository.agent(row, cutoff: offlineCutoff, engines: engines)
        }
    }

    /// `agent_id, engine, installed, running, version, binary_path, updated_at`.
    static func reportedEngine(_ row: PostgresRow) -> ReportedEngine {
        ReportedEngine.stored(
            agentID: row.string(0) ?? "",
            engine: AgentEngine(
                engine: row.string(1) ?? "", installed: row.bool(2) ?? false, running: row.bool(3) ?? false,
                version: row.string(4) ?? "", binaryPath: row.string(5) ?? ""),
            updatedAt: row.string(6) ?? "")
    }

    /// A row of `StoredRows.agentColumns`, read as `AgentRepository.agent` reads SQLite's.
    static func agent(_ row: PostgresRow, cutoff: String, engines: [ReportedEngine]?) -> Agent {
        func text(_ i: Int) -> String { row.string(i) ?? "" }
        func array(_ i: Int) -> [JSON] { (try? JSON(parsing: Array((row.string(i) ?? "[]").utf8)))?.arrayValue ?? [] }
        return Agent.stored(
            id: text(0), name: text(1), hostname: text(2), port: row.int(3) ?? 0, gpuInfo: text(4),
            gpuCount: row.int(5) ?? 0, cpuInfo: text(6), cpuArch: text(7), ramGB: row.double(8),
            environmentType: text(9), fingerprint: text(10), kittVersion: text(11), capabilities: array(12),
            hardwareDetails: text(13),
            status: StoredRows.shownStatus(
                AgentStatus(rawValue: text(14)), lastHeartbeat: row.string(23), cutoff: cutoff),
            currentTask: text(15), gpuUtilizationPct: row.double(16), gpuMemoryUsedGB: row.double(17),
            storageGBFree: row.double(18), uptimeS: row.double(19), notes: text(20), tags: array(21),
            registeredAt: text(22), lastHeartbeat: row.string(23), updatedAt: text(24), engines: engines)
    }

    // MARK: Deleting and settings

    public func delete(idOrName: String) throws -> Bool {
        try store.pool.transaction { connection in
            guard let agent = try PostgresAgentRepository.identity(connection, idOrName: idOrName) else { return false }
            return try connection.run("DELETE FROM agents WHERE id = $1", [.text(agent.id)]) > 0
        }
    }

    static func settings(_ connection: PostgresConnection, agentID: String) throws -> [(key: String, value: String)] {
        var stored: [String: String] = [:]
        for row in try connection.query("SELECT key, value FROM agent_settings WHERE agent_id = $1", [.text(agentID)]).rows {
            if let key = row.string(0) { stored[key] = row.string(1) ?? "" }
        }
        return AgentSettings.defaults.map { ($0.key, stored[$0.key] ?? $0.value) }
    }

    static func insertDefaultSettings(_ connection: PostgresConnection, agentID: String) throws {
        for (key, value) in AgentSettings.defaults {
            try connection.run(
                "INSERT INTO agent_settings (agent_id, key, value) VALUES ($1, $2, $3) ON CONFLICT DO NOTHING",
                [.text(agentID), .text(key), .text(value)])
        }
    }
}
