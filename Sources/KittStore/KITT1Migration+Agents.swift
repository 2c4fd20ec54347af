import KittJSON
import KittSQLite

extension KITT1Migration {
    /// Agents with their token hashes (KITT also stored the lowercase hex SHA-256 of the
    /// token, so installed agents keep authenticating), their settings and engines.
    static func migrateAgents(
        _ reader: KITT1Reader, _ store: Store, hashToken: (String) -> String, _ report: inout KITT1MigrationReport
    ) throws {
        let agents = try reader.rows("agents")
        let settings = try reader.rows("agent_settings")
        let engines = try reader.rows("agent_engines")
        report.update("agents") { $0.found = agents.count }
        report.update("agent_settings") { $0.found = settings.count }
        report.update("agent_engines") { $0.found = engines.count }
        let now = Timestamp.now()
        try store.database.write { db in
            var brought: Set<String> = []
            var names: [String: String] = [:]
            for agent in agents {
                let label = agent.text("name") ?? agent.text("id") ?? "?"
                guard let id = agent.optionalText("id"), let name = agent.optionalText("name") else {
                    report.update("agents") { $0.skipped.append((label, "no id or name")) }
                    continue
                }
                names[id] = name
                if try db.queryOne("SELECT 1 FROM agents WHERE id = ?", [.text(id)]) != nil {
                    report.update("agents") { $0.skipped.append(("\(name) (\(id))", "already in kitt")) }
                    continue
                }
                if let other = try db.queryOne("SELECT id FROM agents WHERE name = ?", [.text(name)])?.string(0) {
                    report.update("agents") {
                        $0.skipped.append(("\(name) (\(id))", "the name is taken in kitt by agent \(other)"))
                    }
                    continue
                }
                let tokenHash = tokenHash(agent, hashToken: hashToken)
                if tokenHash == nil {
                    report.notes.append(
                        "agent \(name): KITT had no token for it; it can act only with the admin token until "
                            + "it is re-installed from install.sh")
                }
                try db.run(
                    """
                    INSERT INTO agents (id, name, hostname, port, gpu_info, gpu_count, cpu_info, cpu_arch, ram_gb,
                        environment_type, fingerprint, kitt_version, hardware_details, status, notes, tags,
                        token_hash, registered_at, last_heartbeat, updated_at)
                    VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, 'offline', ?, ?, ?, ?, ?, ?)
                    """,
                    [.text(id), .text(name), .text(agent.text("hostname") ?? ""), SQLiteValue(agent.int("port") ?? 8090),
                     .text(agent.text("gpu_info") ?? ""), SQLiteValue(agent.int("gpu_count") ?? 0),
                     .text(agent.text("cpu_info") ?? ""), .text(agent.text("cpu_arch") ?? ""),
                     .real(agent.double("ram_gb") ?? 0), .text(agent.text("environment_type") ?? ""),
                     .text(agent.text("fingerprint") ?? ""), .text(agent.text("kitt_version") ?? ""),
                     .text(agent.text("hardware_details") ?? ""), .text(agent.text("notes") ?? ""),
                     .text(stringArray(agent.text("tags"))), SQLiteValue(tokenHash),
                     .text(agent.timestamp("registered_at") ?? now), SQLiteValue(agent.timestamp("last_heartbeat")),
                     .text(now)])
                brought.insert(id)
                report.update("agents") { $0.brought += 1 }
            }
            try copySettings(settings, brought: brought, names: names, db, &report)
            for id in brought { try AgentRepository.insertDefaultSettings(db, agentID: id) }
            try copyEngines(engines, brought: brought, names: names, now: now, db, &report)
        }
    }

    /// KITT's `token_hash` (lowercase hex SHA-256, as kitt keeps it); an old KITT that kept
    /// only the plain `token` gets it hashed here. nil: the agent had no token.
    static func tokenHash(_ agent: KITT1Row, hashToken: (String) -> String) -> String? {
        if let hash = agent.optionalText("token_hash")?.lowercased(), hash.utf8.count == 64,
            hash.utf8.allSatisfy({ (0x30...0x39).contains($0) || (0x61...0x66).contains($0) })
        {
            return hash
        }
        if let token = agent.optionalText("token") { return hashToken(token) }
        return nil
    }

    /// A JSON array of strings as text; anything else becomes `[]`.
    static func stringArray(_ text: String?) -> String {
        guard let text, let parsed = try? JSON(parsing: Array(text.utf8)), let items = parsed.arrayValue,
            items.allSatisfy({ $0.stringValue != nil })
        else { return "[]" }
        return JSON.array(items).jsonString
    }

    private static func copySettings(
        _ rows: [KITT1Row], brought: Set<String>, names: [String: String], _ db: Connection,
        _ report: inout KITT1MigrationReport
    ) throws {
        var notBrought = 0
        for row in rows {
            guard let agentID = row.text("agent_id"), brought.contains(agentID) else {
                notBrought += 1
                continue
            }
            let key = row.text("key") ?? ""
            guard AgentSettings.isKnown(key) else {
                report.update("agent_settings") {
                    $0.skipped.append(("\(names[agentID] ?? agentID).\(key)", "kitt has no such agent setting"))
                }
                continue
            }
            try db.run(
                """
                INSERT INTO agent_settings (agent_id, key, value) VALUES (?, ?, ?)
                ON CONFLICT (agent_id, key) DO UPDATE SET value = excluded.value
                """, [.text(agentID), .text(key), .text(row.text("value") ?? "")])
            report.update("agent_settings") { $0.brought += 1 }
        }
        if notBrought > 0 {
            report.update("agent_settings") { $0.skippedInBulk.append((notBrought, "their agent was skipped (see agents)")) }
        }
    }

    /// kitt keeps one row per agent and engine (installed/running flags); KITT kept one per
    /// engine and mode with a status text. The row that is running, else installed, else the
    /// first, is kept; its status maps to the flags.
    private static func copyEngines(
        _ rows: [KITT1Row], brought: Set<String>, names: [String: String], now: String, _ db: Connection,
        _ report: inout KITT1MigrationReport
    ) throws {
        func rank(_ row: KITT1Row) -> Int {
            switch row.text("status") { case "running": 2; case "installed": 1; default: 0 }
        }
        var kept: [String: KITT1Row] = [:]
        var order: [String] = []
        var notBrought = 0
        for row in rows {
            guard let agentID = row.text("agent_id"), brought.contains(agentID), let engine = row.optionalText("engine")
            else {
                notBrought += 1
                continue
            }
            let key = agentID + "\u{0}" + engine
            if let current = kept[key] {
                let loser = rank(row) > rank(current) ? current : row
                if rank(row) > rank(current) { kept[key] = row }
                let loserLabel = "\(names[agentID] ?? agentID) \(engine) (\(loser.text("mode") ?? "?"))"
                report.update("agent_engines") {
                    $0.skipped.append((loserLabel, "kitt keeps one row per agent and engine"))
                }
            } else {
                kept[key] = row
                order.append(key)
            }
        }
        for key in order {
            guard let row = kept[key], let agentID = row.text("agent_id"), let engine = row.text("engine") else { continue }
            let status = row.text("status") ?? ""
            try db.run(
                """
                INSERT OR IGNORE INTO agent_engines (agent_id, engine, installed, running, version, binary_path, updated_at)
                VALUES (?, ?, ?, ?, ?, ?, ?)
                """,
                [.text(agentID), .text(engine), SQLiteValue(status == "installed" || status == "running"),
                 SQLiteValue(status == "running"), .text(row.text("version") ?? ""),
                 .text(row.text("binary_path") ?? ""), .text(row.timestamp("last_checked") ?? now)])
            report.update("agent_engines") { $0.brought += 1 }
        }
        if notBrought > 0 {
            report.update("agent_engines") { $0.skippedInBulk.append((notBrought, "their agent was skipped (see agents)")) }
        }
    }
}
