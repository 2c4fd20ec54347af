#if canImport(FoundationEssentials)
import FoundationEssentials
#else
import Foundation
#endif
import KittJSON
import KittSQLite
import KittStore
import Testing

/// Migration 3 (leaner result indexes): from an empty file and from a v2 database with data.
@Suite struct SchemaMigrationTests {
    static let resultIndexes = [
        "metrics_benchmark", "metrics_run_name", "runs_engine_time", "runs_model_time", "runs_suite_time",
        "runs_timestamp",
    ]

    static func indexes(_ db: Database) throws -> [String] {
        try db.read { c in
            try c.query(
                """
                SELECT name FROM sqlite_master WHERE type = 'index' AND tbl_name IN ('runs', 'metrics')
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

    @Test func fromEmptyTheQueriesUseTheNewIndexes() throws {
        let t = try TempStore()
        let db = t.store.database
        #expect(try db.schemaVersion == 3)
        #expect(try Self.indexes(db) == Self.resultIndexes)

        for column in ["model", "engine", "suite_name"] {
            let name = column == "suite_name" ? "suite" : column
            // The aggregate: a group's ids and their metric values come from indexes only.
            let aggregate = try Self.plan(
                db,
                """
                SELECT r.\(column), COUNT(DISTINCT r.rowid), AVG(CASE WHEN m.name = ?1 THEN m.value END)
                FROM runs r LEFT JOIN metrics m ON m.run_id = r.id AND m.name IN (?1)
                GROUP BY r.\(column) ORDER BY r.\(column)
                """, ["avg_tps"])
            #expect(aggregate.contains("COVERING INDEX runs_\(name)_time"), "\(aggregate)")
            #expect(aggregate.contains("COVERING INDEX metrics_run_name (run_id=? AND name=?)"), "\(aggregate)")
            // The filtered list: newest first straight from the index, no sort.
            let list = try Self.plan(
                db, "SELECT id, document FROM runs WHERE \(column) = ? ORDER BY timestamp DESC LIMIT ? OFFSET ?",
                ["x", 25, 0])
            #expect(list.contains("INDEX runs_\(name)_time (\(column)=?)"), "\(list)")
            #expect(!list.contains("TEMP B-TREE"), "\(list)")
        }
        let cascade = try Self.plan(db, "DELETE FROM metrics WHERE run_id = ?", ["x"])
        #expect(cascade.contains("INDEX metrics_run_name (run_id=?)"), "\(cascade)")
    }

    @Test func fromVersion2KeepsEveryResultAndAnswersTheSame() throws {
        let directory = FileManager.default.temporaryDirectory
            .appendingPathComponent("kitt-store-\(UUID().uuidString)", isDirectory: true)
        try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: directory) }
        let path = directory.appendingPathComponent("kitt.db").path

        var ids: [String] = []
        let before: (list: [[UInt8]], byModel: [JSON], byEngine: [JSON], bySuite: [JSON], filtered: Int)
        do {
            let db = try Database(path: path)
            defer { db.close() }
            try db.migrate([Schema.v1ResultsAndAgents, Schema.v2AggregateIndexes])
            #expect(try db.schemaVersion == 2)
            let results = ResultsRepository(database: db)
            for n in 0..<30 {
                let document = try ResultDocument(
                    bytes: resultJSON(
                        model: "model-\(n % 3)", engine: ["vllm", "ollama"][n % 2], suite: ["quick", "standard"][n % 2],
                        timestamp: "2026-01-\(10 + n % 17)T00:00:\(10 + n)Z", tps: Double(n * 10)))
                ids.append(try results.insert(document))
            }
            before = (
                try results.list(ResultFilter(), limit: 100, offset: 0).items.map(\.bytes),
                try results.aggregate(groupBy: .model, metrics: ["avg_tps", "p50_latency_ms"]),
                try results.aggregate(groupBy: .engine, metrics: ["avg_tps"]),
                try results.aggregate(groupBy: .suiteName, metrics: ["p50_latency_ms"]),
                try results.list(ResultFilter(model: "model-1"), limit: 100, offset: 0).total
            )
        }

        let store = try Store(path: path)
        defer { store.close() }
        #expect(try store.database.schemaVersion == 3)
        #expect(try Self.indexes(store.database) == Self.resultIndexes)
        #expect(try store.results.list(ResultFilter(), limit: 100, offset: 0).items.map(\.bytes) == before.list)
        #expect(try store.results.aggregate(groupBy: .model, metrics: ["avg_tps", "p50_latency_ms"]) == before.byModel)
        #expect(try store.results.aggregate(groupBy: .engine, metrics: ["avg_tps"]) == before.byEngine)
        #expect(try store.results.aggregate(groupBy: .suiteName, metrics: ["p50_latency_ms"]) == before.bySuite)
        #expect(try store.results.list(ResultFilter(model: "model-1"), limit: 100, offset: 0).total == before.filtered)
        #expect(before.filtered == 10)

        // Deleting still cascades to benchmarks, metrics and hardware.
        #expect(try store.results.delete(id: ids[0]))
        let left = try store.database.read { c in
            try ["benchmarks", "metrics", "hardware"].map {
                try c.queryOne("SELECT COUNT(*) FROM \($0) WHERE run_id = ?", [.text(ids[0])])?.int(0) ?? -1
            }
        }
        #expect(left == [0, 0, 0])
        #expect(try store.database.read { try $0.queryOne("SELECT COUNT(*) FROM metrics")?.int(0) } == 29 * 3)
    }
}
