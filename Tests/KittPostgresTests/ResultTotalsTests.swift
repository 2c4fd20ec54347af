import KittJSON
import KittPostgres
import KittStore
import KittTestSupport
import Testing

@testable import KittStorePostgres

/// PostgreSQL's running totals (schema v6) answer exactly what a plain SQL computation over
/// the runs and metrics does, through inserts, deletes and folds at random points — and a
/// store migrated from v5 with data gets the same totals by backfill.
@Suite(.enabled(if: PostgresServer.isAvailable, "\(PostgresServer.unavailableReason ?? "")"))
struct ResultTotalsTests {
    /// `values` in one benchmark, `more` in a second (a metric name may be in both).
    static func document(
        model: String, engine: String, suite: String, second: Int, values: [(String, Double)], more: [(String, Double)]
    ) throws -> ResultDocument {
        let metrics = values.map { "\"\($0.0)\": \($0.1)" }.joined(separator: ", ")
        let second2 = more.map { "\"\($0.0)\": \($0.1)" }.joined(separator: ", ")
        return try ResultDocument(bytes: Array(
            """
            {"model": "\(model)", "engine": "\(engine)", "suite_name": "\(suite)",
             "timestamp": "2026-01-01T00:00:\(String(second % 60).count == 1 ? "0" : "")\(second % 60)Z", "passed": true,
             "total_benchmarks": 1, "passed_count": 1, "failed_count": 0, "total_time_seconds": 1, "kitt_version": "1",
             "results": [{"test_name": "t", "test_version": "1", "run_number": \(second), "passed": true,
                          "metrics": {\(metrics)}, "errors": []},
                         {"test_name": "u", "test_version": "1", "run_number": 1, "passed": true,
                          "metrics": {\(second2)}, "errors": []}]}
            """.utf8))
    }

    /// The aggregate and list totals computed from the base tables.
    static func expected(_ group: ResultGroup, metrics: [String], _ connection: PostgresConnection) throws
        -> [String]
    {
        let column = group.rawValue
        return try connection.query(
            "SELECT \(column), count(*) FROM runs GROUP BY \(column) ORDER BY \(column)"
        ).rows.map { row in
            let value = row.string(0) ?? ""
            let averages = try metrics.map { name -> String in
                let average = try connection.queryOne(
                    "SELECT avg(m.value) FROM metrics m JOIN runs r ON r.rid = m.run WHERE r.\(column) = $1 AND m.name = $2",
                    [.text(value), .text(name)])?.double(0)
                return average.map { String(format: "%.9g", $0) } ?? "null"
            }
            return "\(value)|\(row.int(1) ?? 0)|" + averages.joined(separator: ",")
        }
    }

    static func served(_ store: PostgresStore, _ group: ResultGroup, metrics: [String]) throws -> [String] {
        try store.results.aggregate(groupBy: group, metrics: metrics).rows.map { row in
            "\(row.value)|\(row.count)|" + row.averages.map { $0.map { String(format: "%.9g", $0) } ?? "null" }
                .joined(separator: ",")
        }
    }

    @Test func totalsMatchPlainSQL_throughInsertsDeletesAndFolds() throws {
        let store = try PostgresStore(PostgresServer.freshDatabase(), connections: 2)
        defer { store.close() }
        var generator = SystemRandomNumberGenerator()
        let models = ["m1", "m2", "m3", "z-ü"]
        let names = ["avg_tps", "p50", "ttft"]
        var ids: [String] = []
        for step in 0..<150 {
            let values = names.filter { _ in Bool.random(using: &generator) }.map { ($0, Double(Int.random(in: -50...500, using: &generator)) / 4) }
            let document = try Self.document(
                model: models.randomElement(using: &generator) ?? "m1",
                engine: ["vllm", "tgi"].randomElement(using: &generator) ?? "vllm",
                suite: ["quick", "full"].randomElement(using: &generator) ?? "quick", second: step,
                values: values, more: Bool.random(using: &generator) ? [("avg_tps", 7)] : [])
            ids.append(try store.results.insert(document))
            if step % 7 == 3, let victim = ids.randomElement(using: &generator) {
                _ = try store.results.delete(id: victim)
                ids.removeAll { $0 == victim }
            }
            if step % 23 == 0 { try PostgresResultTotals.compact(store.pool) }
        }
        try store.pool.withConnection { connection in
            for group in [ResultGroup.model, .engine, .suiteName] {
                let expected = try Self.expected(group, metrics: names, connection)
                #expect(try Self.served(store, group, metrics: names) == expected, "\(group)")
            }
            #expect(try store.results.list(ResultFilter(), limit: 1, offset: 0).total == ids.count)
            for model in models {
                let counted = try connection.queryOne("SELECT count(*) FROM runs WHERE model = $1", [.text(model)])?.int(0)
                #expect(try store.results.list(ResultFilter(model: model), limit: 1, offset: 0).total == counted)
            }
        }
        // Folding everything changes no answer, and leaves no deltas.
        let before = try Self.served(store, .model, metrics: names)
        #expect(try PostgresResultTotals.compact(store.pool))
        #expect(try Self.served(store, .model, metrics: names) == before)
        #expect(try store.pool.withConnection { try $0.queryOne("SELECT count(*) FROM result_total_deltas")?.int(0) } == 0)
        // Deleting every run empties the totals.
        for id in ids { _ = try store.results.delete(id: id) }
        #expect(try Self.served(store, .model, metrics: names).isEmpty)
        try PostgresResultTotals.compact(store.pool)
        #expect(try store.pool.withConnection { try $0.queryOne("SELECT count(*) FROM result_group_totals")?.int(0) } == 0)
    }

    @Test func aStoreWithResultsMigratedFromV5GetsTheSameTotalsByBackfill() throws {
        let info = try PostgresServer.freshDatabase()
        let pool = PostgresPool(info, maximum: 1)
        defer { pool.close() }
        // A v5 store with data, written as v5 wrote it (runs and metrics only).
        try pool.withConnection { try $0.migrate(Array(PostgresSchema.migrations.prefix(5))) }
        try pool.transaction { connection in
            for (index, model) in ["a", "b", "a"].enumerated() {
                let rid = try connection.queryOne(
                    """
                    INSERT INTO runs (id, model, engine, suite_name, timestamp, document, created_at)
                    VALUES ($1, $2, 'vllm', 'quick', '2026-01-01T00:00:00Z', '{}', '') RETURNING rid
                    """, [.text("r\(index)"), .text(model)])?.int64(0) ?? 0
                let benchmark = try connection.queryOne(
                    "INSERT INTO benchmarks (run) VALUES ($1) RETURNING id", [.integer(rid)])?.int64(0) ?? 0
                try connection.run(
                    "INSERT INTO metrics (run, benchmark_id, name, value) VALUES ($1, $2, 'avg_tps', $3)",
                    [.integer(rid), .integer(benchmark), .double(Double(index + 1))])
            }
        }
        let store = try PostgresStore(info, connections: 1)
        defer { store.close() }
        #expect(try Self.served(store, .model, metrics: ["avg_tps"]) == ["a|2|2", "b|1|2"])
    }
}
