import KittJSON
import KittSQLite

extension KITT1Migration {
    /// Every run, from its `raw_json` (the metrics.json document KITT received) through the
    /// store's result insert, under KITT's run id. A run whose document is already stored
    /// under another id (an earlier `kitt import` of the same files) is not stored twice.
    /// Returns KITT run id → kitt result id, for the quick tests' `result_id`.
    static func migrateResults(_ reader: KITT1Reader, _ store: Store, _ report: inout KITT1MigrationReport) throws
        -> [String: String]
    {
        for table in ["runs", "benchmarks", "metrics", "hardware"] {
            let count = try reader.count(table)
            report.update(table) { $0.found = count }
        }
        var resultIDs: [String: String] = [:]
        var alreadyHere = 0
        var sameDocument = 0
        // KITT's child rows of the runs not brought, and what kitt indexed for those brought.
        var notBrought = ChildCounts()
        var indexed = ChildCounts()
        var last: Int64 = 0
        while true {
            let page = try reader.rows("runs", after: last, limit: resultBatchSize)
            guard let tail = page.last else { break }
            last = Int64(tail.int("kitt_rowid") ?? Int.max)
            var kittChildren: [String: ChildCounts] = [:]
            for run in page {
                if let id = run.optionalText("id") { kittChildren[id] = try reader.childCounts(runID: id) }
            }
            try store.database.write { db in
                for run in page {
                    let kittID = run.optionalText("id") ?? StoreID.make()
                    let label = "\(kittID) (\(run.text("model") ?? "?") / \(run.text("engine") ?? "?"))"
                    let children = kittChildren[kittID] ?? ChildCounts()
                    if try db.queryOne("SELECT 1 FROM runs WHERE id = ?", [.text(kittID)]) != nil {
                        resultIDs[kittID] = kittID
                        alreadyHere += 1
                        notBrought.add(children)
                        continue
                    }
                    let document: ResultDocument
                    do {
                        document = try ResultDocument(bytes: Array((run.text("raw_json") ?? "").utf8))
                    } catch {
                        report.update("runs") { $0.skipped.append((label, "raw_json: \(error)")) }
                        notBrought.add(children)
                        continue
                    }
                    if let existing = try db.queryOne(
                        "SELECT id FROM runs WHERE model = ? AND timestamp = ? AND engine = ? AND document = ?",
                        [.text(document.model), .text(document.timestamp), .text(document.engine),
                         .text(String(decoding: document.bytes, as: UTF8.self))])?.string(0)
                    {
                        resultIDs[kittID] = existing
                        sameDocument += 1
                        notBrought.add(children)
                        continue
                    }
                    try ResultsRepository.insert(document, id: kittID, into: db)
                    resultIDs[kittID] = kittID
                    indexed.add(ChildCounts(document))
                    report.update("runs") { $0.brought += 1 }
                }
            }
        }
        report.update("runs") { table in
            if alreadyHere > 0 { table.skippedInBulk.append((alreadyHere, "already in kitt")) }
            if sameDocument > 0 {
                table.skippedInBulk.append((sameDocument, "the same document is already stored (kitt import?)"))
            }
        }
        // kitt indexes these from each run's document (as for any stored result), not from KITT's rows.
        for (table, skipped, brought) in [
            ("benchmarks", notBrought.benchmarks, indexed.benchmarks), ("metrics", notBrought.metrics, indexed.metrics),
            ("hardware", notBrought.hardware, indexed.hardware),
        ] {
            var found = 0
            report.update(table) { entry in
                entry.brought = brought
                if skipped > 0 { entry.skippedInBulk.append((skipped, "their run was skipped (see runs)")) }
                found = entry.found
            }
            if found - skipped != brought {
                report.notes.append(
                    "\(table): kitt indexed \(brought) row(s) from the documents of the runs brought, where KITT "
                        + "had \(found - skipped) (kitt indexes the numeric metrics of each benchmark, as for any result)")
            }
        }
        return resultIDs
    }

    /// Engine profiles, under their KITT ids; a name already used in kitt is not taken.
    static func migrateEngineProfiles(_ reader: KITT1Reader, _ store: Store, _ report: inout KITT1MigrationReport)
        throws
    {
        let rows = try reader.rows("engine_profiles")
        report.update("engine_profiles") { $0.found = rows.count }
        let now = Timestamp.now()
        try store.database.write { db in
            for row in rows {
                let name = row.text("name") ?? ""
                guard let id = row.optionalText("id"), !name.isEmpty, let engine = row.optionalText("engine") else {
                    report.update("engine_profiles") { $0.skipped.append((name, "no id, name or engine")) }
                    continue
                }
                if try db.queryOne("SELECT 1 FROM engine_profiles WHERE id = ?", [.text(id)]) != nil {
                    report.update("engine_profiles") { $0.skipped.append(("\(name) (\(id))", "already in kitt")) }
                    continue
                }
                if let other = try db.queryOne("SELECT id FROM engine_profiles WHERE name = ?", [.text(name)])?.string(0) {
                    report.update("engine_profiles") {
                        $0.skipped.append(("\(name) (\(id))", "the name is taken in kitt by profile \(other)"))
                    }
                    continue
                }
                var configs: [String] = []
                for column in ["build_config", "runtime_config"] {
                    let text = row.optionalText(column) ?? "{}"
                    if (try? JSON(parsing: Array(text.utf8)))?.objectValue != nil {
                        configs.append(text)
                    } else {
                        configs.append("{}")
                        report.notes.append("engine profile \(name): \(column) was not a JSON object; it is {} in kitt")
                    }
                }
                let created = row.timestamp("created_at") ?? now
                try db.run(
                    """
                    INSERT INTO engine_profiles (id, name, engine, mode, description, build_config, runtime_config,
                        created_at, updated_at)
                    VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)
                    """,
                    [.text(id), .text(name), .text(engine), .text(row.optionalText("mode") ?? "docker"),
                     .text(row.text("description") ?? ""), .text(configs[0]), .text(configs[1]), .text(created),
                     .text(row.timestamp("updated_at") ?? created)])
                report.update("engine_profiles") { $0.brought += 1 }
            }
        }
    }
}

/// Benchmark, metric and hardware rows of runs.
struct ChildCounts {
    var benchmarks = 0
    var metrics = 0
    var hardware = 0

    init() {}

    /// What the store indexes for `document`.
    init(_ document: ResultDocument) {
        benchmarks = document.benchmarks.count
        metrics = document.benchmarks.reduce(0) { $0 + $1.metrics.count }
        hardware = document.hardware == nil ? 0 : 1
    }

    mutating func add(_ other: ChildCounts) {
        benchmarks += other.benchmarks
        metrics += other.metrics
        hardware += other.hardware
    }
}

extension KITT1Reader {
    /// KITT's own benchmark, metric and hardware rows of one run (for the report).
    func childCounts(runID: String) throws -> ChildCounts {
        var counts = ChildCounts()
        let run: [SQLiteValue] = [.text(runID)]
        if try hasTable("benchmarks") {
            counts.benchmarks = try connection.queryOne("SELECT COUNT(*) FROM benchmarks WHERE run_id = ?", run)?.int(0) ?? 0
            if try hasTable("metrics") {
                counts.metrics = try connection.queryOne(
                    "SELECT COUNT(*) FROM metrics WHERE benchmark_id IN (SELECT id FROM benchmarks WHERE run_id = ?)", run
                )?.int(0) ?? 0
            }
        }
        if try hasTable("hardware") {
            counts.hardware = try connection.queryOne("SELECT COUNT(*) FROM hardware WHERE run_id = ?", run)?.int(0) ?? 0
        }
        return counts
    }
}
