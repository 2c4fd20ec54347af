import KittJSON
import KittSQLite

extension KITT1Migration {
    /// Campaigns with their config text exactly as KITT stored it, and their logs.
    ///
    /// A campaign KITT was still running (queued/running) cannot be resumed: KITT kept its
    /// progress in memory. It arrives as `failed` with an error saying so, and can be launched
    /// again. KITT's `skipped` count has no place in kitt (it is named in a note).
    static func migrateCampaigns(_ reader: KITT1Reader, _ store: Store, _ report: inout KITT1MigrationReport) throws {
        let campaigns = try reader.rows("web_campaigns")
        let logs = try reader.rows("campaign_logs")
        report.update("web_campaigns") { $0.found = campaigns.count }
        report.update("campaign_logs") { $0.found = logs.count }
        let now = Timestamp.now()
        try store.database.write { db in
            var brought: Set<String> = []
            for campaign in campaigns {
                let name = campaign.text("name") ?? ""
                guard let id = campaign.optionalText("id") else {
                    report.update("web_campaigns") { $0.skipped.append((name, "no id")) }
                    continue
                }
                let label = "\(name) (\(id))"
                if try db.queryOne("SELECT 1 FROM web_campaigns WHERE id = ?", [.text(id)]) != nil {
                    report.update("web_campaigns") { $0.skipped.append((label, "already in kitt")) }
                    continue
                }
                let config = campaign.text("config_json") ?? campaign.text("config") ?? ""
                guard (try? JSON(parsing: Array(config.utf8)))?.objectValue != nil else {
                    report.update("web_campaigns") { $0.skipped.append((label, "config_json is not a JSON object")) }
                    continue
                }
                var status = campaign.optionalText("status") ?? "draft"
                var error = campaign.optionalText("error")
                if status == "queued" || status == "running" {
                    report.notes.append("campaign \(label): was \(status) in KITT; it is failed in kitt (launch it again)")
                    error = "interrupted: KITT was \(status == "queued" ? "about to run" : "running") it when it was migrated to kitt; launch it again"
                    status = "failed"
                }
                let succeeded = campaign.int("succeeded") ?? 0
                let failed = campaign.int("failed") ?? 0
                let skipped = campaign.int("skipped") ?? 0
                if skipped > 0 {
                    report.notes.append("campaign \(label): KITT counted \(skipped) skipped run(s); kitt has no such count")
                }
                let total = campaign.int("total_runs") ?? 0
                let created = campaign.timestamp("created_at") ?? now
                let started = campaign.timestamp("started_at")
                let completed = campaign.timestamp("completed_at") ?? (status == "failed" && error != nil ? now : nil)
                try db.run(
                    """
                    INSERT INTO web_campaigns (id, name, description, agent_id, status, config, total_runs, succeeded,
                        failed, next_index, error, created_at, updated_at, started_at, completed_at)
                    VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)
                    """,
                    [.text(id), .text(name), .text(campaign.text("description") ?? ""),
                     SQLiteValue(campaign.optionalText("agent_id")), .text(status), .text(config), SQLiteValue(total),
                     SQLiteValue(succeeded), SQLiteValue(failed),
                     SQLiteValue(max(0, min(total, succeeded + failed + skipped))), SQLiteValue(error), .text(created),
                     .text(completed ?? started ?? created), SQLiteValue(started), SQLiteValue(completed)])
                brought.insert(id)
                report.update("web_campaigns") { $0.brought += 1 }
            }
            try copyLogs(logs, table: "campaign_logs", owner: "campaign_id", brought: brought, now: now, db, &report)
        }
    }

    /// Quick tests (with their agent's name) and their logs.
    ///
    /// KITT kept a test's pending command in memory, so a test still `queued` there would
    /// never be handed out: it arrives as `failed` with an error saying so. One KITT had
    /// dispatched or was running arrives as `running`: the agent's reports still complete it,
    /// and kitt's quick-test timeout fails it otherwise.
    static func migrateQuickTests(
        _ reader: KITT1Reader, _ store: Store, runIDs: [String: String], _ report: inout KITT1MigrationReport
    ) throws {
        let tests = try reader.rows("quick_tests")
        let logs = try reader.rows("quick_test_logs")
        var agentNames: [String: String] = [:]
        for agent in try reader.rows("agents") {
            if let id = agent.text("id"), let name = agent.text("name") { agentNames[id] = name }
        }
        report.update("quick_tests") { $0.found = tests.count }
        report.update("quick_test_logs") { $0.found = logs.count }
        let now = Timestamp.now()
        try store.database.write { db in
            var brought: Set<String> = []
            for test in tests {
                guard let id = test.optionalText("id"), let agentID = test.optionalText("agent_id") else {
                    report.update("quick_tests") { $0.skipped.append((test.text("id") ?? "?", "no id or agent")) }
                    continue
                }
                if try db.queryOne("SELECT 1 FROM quick_tests WHERE id = ?", [.text(id)]) != nil {
                    report.update("quick_tests") { $0.skipped.append((id, "already in kitt")) }
                    continue
                }
                let agentName = try agentNames[agentID]
                    ?? db.queryOne("SELECT name FROM agents WHERE id = ?", [.text(agentID)])?.string(0) ?? ""
                var status = test.optionalText("status") ?? "queued"
                var error = test.optionalText("error")
                let created = test.timestamp("created_at") ?? now
                var started = test.timestamp("started_at")
                var completed = test.timestamp("completed_at")
                switch status {
                case "queued":
                    report.notes.append("quick test \(id): was queued in KITT; it is failed in kitt (start it again)")
                    status = "failed"
                    error = "not run: still queued in KITT when it was migrated to kitt; start it again"
                    completed = completed ?? now
                case "dispatched":
                    // The agent holds the command: its running/completed reports move it on (or
                    // the quick-test timeout fails it), as for a test kitt dispatched itself.
                    break
                case "running":
                    started = started ?? created
                default:
                    break
                }
                var resultID: String?
                if let kittResult = test.optionalText("result_id") {
                    resultID = runIDs[kittResult]
                    if resultID == nil {
                        report.notes.append("quick test \(id): its result \(kittResult) was not brought; result_id is null")
                    }
                }
                try db.run(
                    """
                    INSERT INTO quick_tests (id, agent_id, agent_name, model_path, engine_name, benchmark_name,
                        suite_name, engine_mode, profile_id, status, command_id, campaign_id, result_id, error,
                        created_at, started_at, completed_at)
                    VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)
                    """,
                    [.text(id), .text(agentID), .text(agentName), .text(test.text("model_path") ?? ""),
                     .text(test.text("engine_name") ?? ""), .text(test.optionalText("benchmark_name") ?? "throughput"),
                     .text(test.optionalText("suite_name") ?? "quick"), .text(test.optionalText("engine_mode") ?? "docker"),
                     SQLiteValue(test.optionalText("profile_id")), .text(status),
                     SQLiteValue(test.optionalText("command_id")), SQLiteValue(test.optionalText("campaign_id")),
                     SQLiteValue(resultID), SQLiteValue(error), .text(created), SQLiteValue(started),
                     SQLiteValue(completed)])
                brought.insert(id)
                report.update("quick_tests") { $0.brought += 1 }
            }
            try copyLogs(logs, table: "quick_test_logs", owner: "test_id", brought: brought, now: now, db, &report)
            // The per-test log counters the log limits trim by (every KITT line is kept).
            for id in brought {
                try db.run(
                    """
                    UPDATE quick_tests SET
                        log_count = (SELECT COUNT(*) FROM quick_test_logs WHERE test_id = ?1),
                        log_bytes = (SELECT COALESCE(SUM(length(CAST(line AS BLOB))), 0) FROM quick_test_logs
                                     WHERE test_id = ?1)
                    WHERE id = ?1
                    """, [.text(id)])
            }
        }
    }

    /// Log lines of the owners brought, in KITT's order (`table`/`owner` are fixed names).
    private static func copyLogs(
        _ rows: [KITT1Row], table: String, owner: String, brought: Set<String>, now: String, _ db: Connection,
        _ report: inout KITT1MigrationReport
    ) throws {
        var notBrought = 0
        for row in rows {
            guard let ownerID = row.text(owner), brought.contains(ownerID) else {
                notBrought += 1
                continue
            }
            try db.run(
                "INSERT INTO \(table) (\(owner), line, created_at) VALUES (?, ?, ?)",
                [.text(ownerID), .text(row.text("line") ?? ""), .text(row.timestamp("created_at") ?? now)])
            report.update(table) { $0.brought += 1 }
        }
        if notBrought > 0 {
            let parent = owner == "test_id" ? "quick test was skipped (see quick_tests)" : "campaign was skipped (see web_campaigns)"
            report.update(table) { $0.skippedInBulk.append((notBrought, "their \(parent)")) }
        }
    }
}
