#if canImport(FoundationEssentials)
import FoundationEssentials
#else
import Foundation
#endif
import KittJSON
import KittSQLite
import KittStore
import Testing

/// Migration 3 (results keyed by run rowid, leaner indexes) and 12 (a run's benchmarks and
/// metrics keyed by its id range, no indexes): from an empty file and from a v2 database
/// with data.
@Suite struct SchemaMigrationTests {
    static let resultIndexes = [
        "runs_engine_suite_time", "runs_engine_time",
        "runs_model_engine_time", "runs_model_suite_time", "runs_model_time", "runs_suite_time", "runs_timestamp",
    ]

    static func indexes(_ db: Database) throws -> [String] {
        try db.read { c in
            try c.query(
                """
                SELECT name FROM sqlite_master WHERE type = 'index' AND tbl_name IN ('runs', 'benchmarks', 'metrics', 'hardware')
                AND name NOT LIKE 'sqlite_autoindex_%' ORDER BY name
                """
            ).compactMap { $0.string(0) }
        }
    }

    static func plan(_ db: Database, _ sql: String, _ bindings: [SQLiteValue]) throws -> String {
        try db.read { c in
            try c.query("EXPLAIN QUERY PLAN " + sql, bindings).compactMap { $0.string("detail") }.joined(separator: "\n")
        }
    }

    // SQLite only: SQLite schema versions and query plans.
    @Test func fromEmptyTheQueriesUseTheNewIndexes() throws {
        let t = try TempStore()
        let db = t.store.database
        #expect(try db.schemaVersion == Store.migrations.last?.version)
        #expect(try Self.indexes(db) == Self.resultIndexes)

        for column in ["model", "engine", "suite_name"] {
            let name = column == "suite_name" ? "suite" : column
            // The filtered list: newest first straight from the index, no sort.
            let list = try Self.plan(
                db, "SELECT id, document FROM runs WHERE \(column) = ? ORDER BY timestamp DESC LIMIT ? OFFSET ?",
                ["x", 25, 0])
            #expect(list.contains("INDEX runs_\(name)_time (\(column)=?)"), "\(list)")
            #expect(!list.contains("TEMP B-TREE"), "\(list)")
        }
        // An agent's token finds it through the index (v13), not a scan of every agent.
        let token = try Self.plan(
            db, "SELECT id, name, token_hash, status, last_heartbeat FROM agents WHERE lower(token_hash) = ?", ["x"])
        #expect(token.contains("USING INDEX agents_token_hash"), "\(token)")
        // A run's benchmarks and metrics (v12) are one range of their table's rowids.
        for table in ["metrics", "benchmarks"] {
            let range = try Self.plan(db, "DELETE FROM \(table) WHERE id >= ? AND id < ?", [1, 2])
            #expect(range.contains("INTEGER PRIMARY KEY (rowid>? AND rowid<?)"), "\(range)")
        }
        // Hardware references runs(rid), which is the rowid (kept by VACUUM); benchmarks and
        // metrics reference nothing (v12): the trigger deletes them with their run.
        let references = try db.read { c in
            try ["benchmarks", "metrics", "hardware"].map { table in
                try c.query("SELECT \"table\", \"from\", \"to\", on_delete FROM pragma_foreign_key_list(?)", [.text(table)])
                    .filter { $0.string(0) == "runs" }.map { "\($0.string(1) ?? "")->\($0.string(2) ?? "") \($0.string(3) ?? "")" }
            }
        }
        #expect(references == [[], [], ["run->rid CASCADE"]])
        let triggers = try db.read { try $0.query("SELECT name FROM sqlite_master WHERE type = 'trigger'").compactMap { $0.string(0) } }
        #expect(triggers == ["runs_delete_children"])
        let rid = try db.read { try $0.query("SELECT name, pk FROM pragma_table_info('runs') WHERE pk > 0") }
        #expect(rid.map { $0.string(0) } == ["rid"])
    }

    // SQLite only: migrates a SQLite v2 file (PostgreSQL's schema has its own migrations).
    @Test func fromVersion2KeepsEveryResultAndAnswersTheSame() throws {
        let directory = FileManager.default.temporaryDirectory
            .appendingPathComponent("kitt-store-\(UUID().uuidString)", isDirectory: true)
        try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: directory) }
        let path = directory.appendingPathComponent("kitt.db").path

        var ids: [String] = []
        let before: (list: [[UInt8]], filtered: Int)
        let aggregatesBefore: [[String]]
        let childrenBefore: [[String]]
        do {
            let db = try Database(path: path)
            defer { db.close() }
            try db.migrate([Schema.v1ResultsAndAgents, Schema.v2AggregateIndexes])
            #expect(try db.schemaVersion == 2)
            for n in 0..<30 {
                let document = try ResultDocument(
                    bytes: resultJSON(
                        model: "model-\(n % 3)", engine: ["vllm", "ollama"][n % 2], suite: ["quick", "standard"][n % 2],
                        timestamp: "2026-01-\(10 + n % 17)T00:00:\(10 + n)Z", tps: Double(n * 10)))
                ids.append(try Self.insertV2(document, into: db))
            }
            // The list as v2 answered it: newest first, ties by id; each item is the document
            // with the id spliced in front.
            before = try db.read { c in
                (
                    try c.query("SELECT id, document FROM runs ORDER BY timestamp DESC, id LIMIT 100").map { row in
                        Array(#"{"id":"\#(row.string(0) ?? "")","#.utf8) + Array((row.string(1) ?? "").utf8.dropFirst())
                    },
                    try c.queryOne("SELECT COUNT(*) FROM runs WHERE model = 'model-1'")?.int(0) ?? -1
                )
            }
            // The aggregates as v2 computed them.
            aggregatesBefore = try ["model", "engine", "suite_name"].map { column in
                try db.read { c in
                    try c.query(
                        """
                        SELECT r.\(column), COUNT(DISTINCT r.rowid), AVG(CASE WHEN m.name = ?1 THEN m.value END),
                            AVG(CASE WHEN m.name = ?2 THEN m.value END)
                        FROM runs r LEFT JOIN metrics m ON m.run_id = r.id AND m.name IN (?1, ?2)
                        GROUP BY r.\(column) ORDER BY r.\(column)
                        """, ["avg_tps", "p50_latency_ms"]
                    ).map { "\($0.string(0) ?? "")|\($0.int(1) ?? -1)|\($0.double(2) ?? -1)|\($0.double(3) ?? -1)" }
                }
            }
            childrenBefore = try Self.children(db, runKey: "run_id", join: "r.id")
        }

        let store = try Store(path: path)
        defer { store.close() }
        #expect(try store.database.schemaVersion == Store.migrations.last?.version)
        #expect(try Self.indexes(store.database) == Self.resultIndexes)
        #expect(try store.results.list(ResultFilter(), limit: 100, offset: 0).items.map(\.bytes) == before.list)
        let aggregatesAfter = try ResultGroup.allCases.map { group in
            try store.results.aggregate(groupBy: group, metrics: ["avg_tps", "p50_latency_ms"]).rows.map { row in
                let values = [row.value, "\(row.count)"] + row.averages.map { "\($0 ?? -1)" }
                return values.joined(separator: "|")
            }
        }
        #expect(aggregatesAfter == aggregatesBefore)
        #expect(aggregatesBefore.map(\.count) == [3, 2, 2])
        #expect(try store.results.list(ResultFilter(model: "model-1"), limit: 100, offset: 0).total == before.filtered)
        #expect(before.filtered == 10)
        // Every benchmark, metric and hardware row kept, in its order, under the same run
        // (v12 renumbers benchmarks and metrics: each run's rows are its id range).
        #expect(try Self.children(store.database, runKey: "run", join: "r.rid") == childrenBefore)
        try Self.expectChildIDsInTheirRunsRange(store.database)
        #expect(childrenBefore.map(\.count) == [60, 90, 30])
        // rowids kept as rid, so results stay in insertion order and new ones go last.
        let rids = try store.database.read { try $0.query("SELECT id FROM runs ORDER BY rid").compactMap { $0.string(0) } }
        #expect(rids == ids)
        let newID = try store.results.insert(try ResultDocument(bytes: resultJSON(model: "model-new")))
        #expect(try store.database.read { try $0.queryOne("SELECT id FROM runs ORDER BY rid DESC LIMIT 1")?.string(0) } == newID)

        // Deleting still cascades to benchmarks, metrics and hardware.
        #expect(try store.results.delete(id: ids[0]))
        #expect(try store.results.delete(id: newID))
        let left = try store.database.read { c in
            try ["benchmarks", "metrics", "hardware"].map { try c.queryOne("SELECT COUNT(*) FROM \($0)")?.int(0) ?? -1 }
        }
        #expect(left == [58, 87, 29])
        #expect(try store.database.read { try $0.queryOne("PRAGMA foreign_key_check")?.string(0) } == nil)
    }

    /// What ResultsRepository.insert wrote up to schema 2 (children keyed by the text id).
    static func insertV2(_ document: ResultDocument, into db: Database) throws -> String {
        let id = StoreID.make()
        try db.write { c in
            try c.run(
                """
                INSERT INTO runs (id, model, engine, suite_name, timestamp, passed, total_benchmarks,
                    passed_count, failed_count, total_time_seconds, kitt_version, document, created_at)
                VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)
                """,
                [.text(id), .text(document.model), .text(document.engine), .text(document.suiteName),
                 .text(document.timestamp), SQLiteValue(document.passed), SQLiteValue(document.totalBenchmarks),
                 SQLiteValue(document.passedCount), SQLiteValue(document.failedCount),
                 .real(document.totalTimeSeconds), .text(document.kittVersion),
                 .text(String(decoding: document.bytes, as: UTF8.self)), .text(Timestamp.now())])
            for benchmark in document.benchmarks {
                try c.run(
                    "INSERT INTO benchmarks (run_id, test_name, test_version, run_number, passed) VALUES (?, ?, ?, ?, ?)",
                    [.text(id), .text(benchmark.testName), .text(benchmark.testVersion),
                     SQLiteValue(benchmark.runNumber), SQLiteValue(benchmark.passed)])
                let benchmarkID = c.lastInsertRowID
                for metric in benchmark.metrics {
                    try c.run(
                        "INSERT INTO metrics (run_id, benchmark_id, name, value) VALUES (?, ?, ?, ?)",
                        [.text(id), .integer(benchmarkID), .text(metric.name), .real(metric.value)])
                }
            }
            if let h = document.hardware {
                try c.run(
                    """
                    INSERT INTO hardware (run_id, gpu_model, gpu_vram_gb, gpu_count, cpu_model, cpu_cores,
                        ram_gb, environment_type, fingerprint) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)
                    """,
                    [.text(id), SQLiteValue(h.gpuModel), SQLiteValue(h.gpuVRAMGB), SQLiteValue(h.gpuCount),
                     SQLiteValue(h.cpuModel), SQLiteValue(h.cpuCores), SQLiteValue(h.ramGB),
                     SQLiteValue(h.environmentType), SQLiteValue(h.fingerprint)])
            }
        }
        return id
    }

    /// Each child table's rows as text, with the public id of their run, in their run's id
    /// order then their own (ids left out: v12 renumbers them; a metric's benchmark is named
    /// by its columns).
    static func children(_ db: Database, runKey: String, join: String) throws -> [[String]] {
        try db.read { c in
            [
                try c.query(
                    """
                    SELECT r.id, b.test_name, b.test_version, b.run_number, b.passed
                    FROM benchmarks b JOIN runs r ON \(join) = b.\(runKey) ORDER BY r.id, b.id
                    """),
                try c.query(
                    """
                    SELECT r.id, b.test_name, b.run_number, m.name, m.value
                    FROM metrics m JOIN runs r ON \(join) = m.\(runKey) JOIN benchmarks b ON b.id = m.benchmark_id
                    WHERE b.\(runKey) = m.\(runKey) ORDER BY r.id, m.id
                    """),
                try c.query(
                    """
                    SELECT r.id, h.gpu_model, h.gpu_vram_gb, h.gpu_count, h.cpu_model, h.cpu_cores, h.ram_gb,
                        h.environment_type, h.fingerprint
                    FROM hardware h JOIN runs r ON \(join) = h.\(runKey) ORDER BY r.id
                    """),
            ].map { rows in rows.map { row in (0..<row.count).map { "\(row[$0])" }.joined(separator: "|") } }
        }
    }

    /// Schema v12: every benchmark and metric row's id is in its run's range, numbered from
    /// the range's start without gaps.
    static func expectChildIDsInTheirRunsRange(_ db: Database) throws {
        for table in ["benchmarks", "metrics"] {
            let wrong = try db.read { c in
                try c.queryOne(
                    """
                    SELECT COUNT(*) FROM (SELECT id, run, ROW_NUMBER() OVER (PARTITION BY run ORDER BY id) - 1 AS k
                                          FROM \(table))
                    WHERE id != run * 16777216 + k
                    """)?.int(0)
            }
            #expect(wrong == 0, "\(table)")
        }
    }
}
