import KittJSON
import KittSQLite
@testable import KittStore
import KittTestSupport
import Testing

/// Schema v5: the aggregate and every list page read from the summaries answer exactly what
/// the plain SQL over runs and metrics answers, on a random store with inserts (single,
/// batched, group-committed) and deletes, with chunks small enough to split many times.
@Suite(.serialized) struct ResultSummariesTests {
    /// A small deterministic generator (xorshift), so a failure can be replayed from its seed.
    struct Generator: RandomNumberGenerator {
        var state: UInt64
        mutating func next() -> UInt64 {
            state ^= state << 13
            state ^= state >> 7
            state ^= state << 17
            return state
        }
    }

    static func randomDocument(_ g: inout Generator) throws -> ResultDocument {
        // "é:1" checks the combined lists' value encoding (UTF-8 lengths, a colon inside).
        let model = ["alpha", "beta", "gamma", "delta", "é:1"].randomElement(using: &g)!
        let engine = ["vllm", "llama_cpp", "ollama"].randomElement(using: &g)!
        let suite = ["quick", "standard"].randomElement(using: &g)!
        // Few distinct timestamps: many ties, ordered by id.
        let timestamp = "2026-01-\(10 + Int.random(in: 0..<6, using: &g))T00:00:0\(Int.random(in: 0..<3, using: &g))Z"
        let tps = Double(Int.random(in: 1...100_000, using: &g)) / 7
        // Some documents lack the second metric; one in five has none at all.
        let extra = Bool.random(using: &g) ? "" : #", "notes": "n""#
        if Int.random(in: 0..<5, using: &g) == 0 {
            return try ResultDocument(
                bytes: Array(#"{"model":"\#(model)","engine":"\#(engine)","suite_name":"\#(suite)","timestamp":"\#(timestamp)"}"#.utf8))
        }
        return try ResultDocument(
            bytes: resultJSON(model: model, engine: engine, suite: suite, timestamp: timestamp, tps: tps, extra: extra))
    }

    /// The aggregate as plain SQL over runs and metrics (what it was before schema v5).
    static func plainAggregate(_ c: Connection, _ column: String, _ metrics: [String]) throws -> [ResultsRepository.AggregateRow] {
        let averages = metrics.indices.map { ", AVG(CASE WHEN m.name = ?\($0 + 1) THEN m.value END)" }.joined()
        let names = metrics.indices.map { "?\($0 + 1)" }.joined(separator: ", ")
        return try c.query(
            """
            SELECT r.\(column), COUNT(DISTINCT r.rid)\(averages)
            FROM runs r LEFT JOIN metrics m ON m.run = r.rid AND m.name IN (\(names))
            GROUP BY r.\(column) ORDER BY r.\(column)
            """, metrics.map { .text($0) }
        ).map { row in
            ResultsRepository.AggregateRow(
                value: row.string(0) ?? "", count: row.int(1) ?? -1, averages: metrics.indices.map { row.double(2 + $0) })
        }
    }

    static func checkAggregates(_ store: Store) throws {
        let metrics = ["avg_tps", "p50_latency_ms", "missing"]
        for group in ResultGroup.allCases {
            let expected = try store.database.read { try plainAggregate($0, group.rawValue, metrics) }
            let got = try store.results.aggregate(groupBy: group, metrics: metrics + ["avg_tps"])
            #expect(got.metrics == metrics)
            #expect(got.rows.map(\.value) == expected.map(\.value), "\(group)")
            #expect(got.rows.map(\.count) == expected.map(\.count), "\(group)")
            for (row, want) in zip(got.rows, expected) {
                for (a, b) in zip(row.averages, want.averages) {
                    // Running sums add in another order than AVG: equal to rounding.
                    if let a, let b {
                        #expect(abs(a - b) <= 1e-9 * max(1, abs(b)), "\(group) \(row.value): \(a) vs \(b)")
                    } else {
                        #expect(a == nil && b == nil, "\(group) \(row.value): \(String(describing: a)) vs \(String(describing: b))")
                    }
                }
            }
        }
    }

    static func checkPages(_ store: Store, pageSize: Int) throws {
        let filters = [
            ResultFilter(), ResultFilter(model: "beta"), ResultFilter(engine: "ollama"), ResultFilter(suiteName: "quick"),
            ResultFilter(model: "alpha", engine: "vllm"), ResultFilter(model: "gamma", suiteName: "standard"),
            ResultFilter(engine: "llama_cpp", suiteName: "quick"),
            ResultFilter(model: "delta", engine: "ollama", suiteName: "standard"), ResultFilter(model: "nope"),
            ResultFilter(model: "alpha", engine: "nope"),
        ]
        for filter in filters {
            let (clause, bindings) = filter.whereClause
            let expected = try store.database.read { c in
                try c.query("SELECT id, document FROM runs\(clause) ORDER BY timestamp DESC, id", bindings).map { row in
                    row.string(0) ?? ""
                }
            }
            var offset = 0
            repeat {
                let page = try store.results.list(filter, limit: pageSize, offset: offset)
                #expect(page.total == expected.count, "\(filter)")
                let ids = page.items.compactMap { try? JSON(parsing: $0.bytes)["id"]?.stringValue }
                let want = Array(expected.dropFirst(offset).prefix(pageSize))
                #expect(ids == want, "\(filter) offset \(offset)")
                offset += pageSize
            } while offset < expected.count + pageSize
        }
    }

    /// Every list's chunks count exactly the runs between their keys.
    static func checkChunks(_ store: Store) throws {
        let sums = try store.database.read { c in
            try c.query(
                """
                SELECT kind, value, SUM(count), MIN(count) FROM (
                    SELECT kind, value, count FROM run_chunks UNION ALL SELECT kind, value, count FROM run_chunk_heads)
                GROUP BY kind, value
                """
            ).map {
                "\($0.string(0) ?? "")=\($0.string(1) ?? ""):\($0.int(2) ?? -1)"
            }
        }
        let expected = try store.database.read { c in
            var out: [String] = []
            for row in try c.query("SELECT COUNT(*) FROM runs") where (row.int(0) ?? 0) > 0 {
                out.append("=:\(row.int(0) ?? -1)")
            }
            // Every column and combination of columns (v9), its value made as ResultList does.
            for columns in [["engine"], ["model"], ["suite_name"], ["model", "engine"], ["model", "suite_name"],
                            ["engine", "suite_name"], ["model", "engine", "suite_name"]] {
                let list = columns.joined(separator: ", ")
                out += try c.query("SELECT \(list), COUNT(*) FROM runs GROUP BY \(list)").map { row in
                    let value = ResultList(columns.indices.map { .init(column: columns[$0], value: row.string($0) ?? "") })
                    return "\(value.kind)=\(value.value):\(row.int(columns.count) ?? -1)"
                }
            }
            return out
        }
        #expect(sums.sorted() == expected.sorted())
    }

    /// `mergeFrom`: 1 places every batch's runs by reading the chunk keys in order, 16 (the
    /// default) looks small batches' runs up one by one.
    // SQLite only: compares SQLite's v5 summary tables and chunks with plain SQL, under group commit.
    @Test(arguments: [(UInt64(0x9E37_79B9_7F4A_7C15), 16), (0x1234_5678_9ABC_DEF1, 16), (0x0BAD_CAFE_F00D_1234, 1)])
    func summariesMatchPlainSQLThroughInsertsAndDeletes(seed: UInt64, mergeFrom: Int) throws {
        ResultListChunks.capacity.store(3, ordering: .relaxed)
        ResultListChunks.mergeFrom.store(mergeFrom, ordering: .relaxed)
        defer {
            ResultListChunks.capacity.store(1024, ordering: .relaxed)
            ResultListChunks.mergeFrom.store(16, ordering: .relaxed)
        }
        var g = Generator(state: seed)
        let t = try TempStore()
        let results = t.store.results
        var ids: [String] = []
        for round in 0..<4 {
            // Single inserts, one batch, and a group-commit burst through agent-style writes.
            for _ in 0..<15 { ids.append(try results.insert(try Self.randomDocument(&g))) }
            ids += try results.insertAll((0..<40).map { _ in try Self.randomDocument(&g) })
            let burst = try (0..<20).map { _ in try Self.randomDocument(&g) }
            let stored = try burst.map { document in
                try waitFor { (done: @escaping @Sendable (Result<String, any Error>) -> Void) in
                    t.store.database.writeAsync({ c in
                        let id = StoreID.make()
                        try ResultsRepository.insert(document, id: id, into: c)
                        return id
                    }, completion: done)
                }
            }
            ids += stored
            // A body that fails in the batch leaves no trace in the summaries.
            _ = try? waitFor { (done: @escaping @Sendable (Result<Int, any Error>) -> Void) in
                t.store.database.writeAsync({ c in
                    var other = Generator(state: seed &+ 1)
                    try ResultsRepository.insert(try Self.randomDocument(&other), id: StoreID.make(), into: c)
                    throw RolledBack()
                }, completion: done)
            }
            // Delete a random third (twice for one id: the second is a no-op).
            ids.shuffle(using: &g)
            let doomed = ids.prefix(ids.count / 3)
            for id in doomed { #expect(try results.delete(id: id)) }
            if let again = doomed.first { #expect(try !results.delete(id: again)) }
            ids.removeFirst(doomed.count)
            try Self.checkAggregates(t.store)
            try Self.checkPages(t.store, pageSize: round % 2 == 0 ? 7 : 25)
            try Self.checkChunks(t.store)
        }
        // Everything deleted: empty answers and no summary rows left.
        for id in ids { #expect(try results.delete(id: id)) }
        #expect(try results.list(ResultFilter(), limit: 25, offset: 0).total == 0)
        #expect(try results.aggregate(groupBy: .model, metrics: ["avg_tps"]).rows.isEmpty)
        let leftovers = try t.store.database.read { c in
            try ["result_groups", "metric_totals", "result_sets", "run_chunks", "run_chunk_heads"].map {
                try c.queryOne("SELECT COUNT(*) FROM \($0)")?.int(0) ?? -1
            }
        }
        #expect(leftovers == [0, 0, 0, 0, 0])
    }

    /// A batch's runs are taken in list order whatever order they came in: in order already,
    /// exactly reversed (an import walking time-ordered runs), or mixed with ties on the
    /// timestamp; the same order as sorting the runs themselves.
    @Test func aBatchIsTakenInListOrderWhateverItsOrder() {
        var g = Generator(state: 0x5DEE_CE66_D1CE_4E5B)
        func run(_ timestamp: String, _ id: String) -> ResultSummaryChanges.Run {
            .init(id: id, model: "m", engine: "e", suiteName: "s", timestamp: timestamp)
        }
        let mixed = (0..<300).map { _ in
            run("2026-01-0\(Int.random(in: 1...4, using: &g))T00:00:00Z", StoreID.make())
        }
        let sorted = mixed.sorted { ResultListChunks.precedes($0.timestamp, $0.id, $1.timestamp, $1.id) }
        for runs in [mixed, sorted, sorted.reversed(), [], [mixed[0]]] {
            let expected = runs.sorted { ResultListChunks.precedes($0.timestamp, $0.id, $1.timestamp, $1.id) }
            let order = ResultSummaryChanges.listOrder(runs)
            #expect(order.sorted() == Array(runs.indices))
            #expect(order.map { runs[$0].id } == expected.map(\.id))
        }
    }

    /// Walking the chunks and finding a run's chunk are index scans (no sort), so their
    /// cost is the rows they return.
    // SQLite only: query plans over SQLite's summary chunks.
    @Test func chunkQueriesFollowThePrimaryKey() throws {
        let t = try TempStore()
        for sql in [
            "SELECT ts, id, count FROM run_chunks WHERE kind = ? AND value = ? ORDER BY ts DESC, id",
            "SELECT ts, id FROM run_chunks WHERE kind = ? AND value = ? AND ts > ? ORDER BY ts, id DESC LIMIT 1",
            "SELECT id FROM run_chunks WHERE kind = ? AND value = ? AND ts = ? AND id <= ? ORDER BY id DESC LIMIT 1",
            "SELECT ts, id FROM run_chunks WHERE kind = ? AND value = ? ORDER BY ts DESC, id LIMIT 1",
            "SELECT count FROM run_chunk_heads WHERE kind = ? AND value = ?",
            "SELECT ts, id FROM run_chunks WHERE kind = ? AND value = ? AND ts >= ? ORDER BY ts, id DESC LIMIT ?",
            "SELECT ts, id FROM run_chunks WHERE kind = ? AND value = ? AND ts < x'' ORDER BY ts DESC, id",
        ] {
            let count = sql.filter { $0 == "?" }.count
            let plan = try t.store.database.read { c in
                try c.query("EXPLAIN QUERY PLAN " + sql, Array(repeating: SQLiteValue.text("x"), count: count))
                    .compactMap { $0.string("detail") }.joined(separator: "\n")
            }
            #expect(plan.contains("USING PRIMARY KEY") && plan.contains("SEARCH run_chunk"), "\(sql)\n\(plan)")
            #expect(!plan.contains("TEMP B-TREE"), "\(sql)\n\(plan)")
        }
    }

    /// A page of a combined filter walks an index in list order, with no sort, whose
    /// columns hold every filtered value (so a skipped run costs an index step, not a row).
    // SQLite only: SQLite query plans.
    @Test func combinedFilterWalksUseACoveringIndexInListOrder() throws {
        let t = try TempStore()
        let expectedIndex = [
            "model+engine": "runs_model_engine_time", "model+suite_name": "runs_model_suite_time",
            "engine+suite_name": "runs_engine_suite_time", "model+engine+suite_name": "runs_model_engine_time",
        ]
        let combined = ResultList.lists(model: "m", engine: "e", suiteName: "s").filter { $0.filters.count >= 2 }
        #expect(combined.map(\.kind).sorted() == expectedIndex.keys.sorted())
        for list in combined {
            for sql in ResultListChunks.WalkSQL(list, columns: "id, document").all {
                let count = sql.filter { $0 == "?" }.count
                let plan = try t.store.database.read { c in
                    try c.query("EXPLAIN QUERY PLAN " + sql, Array(repeating: SQLiteValue.text("x"), count: count))
                        .compactMap { $0.string("detail") }.joined(separator: "\n")
                }
                #expect(plan.contains("INDEX \(expectedIndex[list.kind] ?? "?") ("), "\(sql)\n\(plan)")
                #expect(!plan.contains("TEMP B-TREE"), "\(sql)\n\(plan)")
            }
        }
    }

    /// Metric values at the edges of what JSON allows never make a write (or an aggregate)
    /// fail: sums overflow to ±inf, and +inf + -inf is NaN, which SQLite stores as NULL.
    /// On both backends: PostgreSQL's float8 sums raise an error where SQLite's become ±inf.
    @Test(arguments: Backend.available)
    func extremeMetricsNeverFailAWrite(backend: Backend) throws {
        let b = try backend.open()
        var ids: [String] = []
        func document(_ tps: String) throws -> ResultDocument {
            try ResultDocument(bytes: Array(
                #"{"model":"edge","engine":"vllm","timestamp":"2026-01-01T00:00:0\#(ids.count)Z","results":[{"test_name":"t","metrics":{"avg_tps":\#(tps),"p50_latency_ms":20}}]}"#.utf8))
        }
        // +inf stored, then a batch whose own sum is -inf: their sum is NaN.
        for tps in ["1e308", "1e308"] { ids.append(try b.results.insert(try document(tps))) }
        #expect(try b.results.aggregate(groupBy: .model, metrics: ["avg_tps"]).rows.map(\.count) == [2])
        ids += try b.results.insertAll([try document("-1e308"), try document("-1e308")])
        ids.append(try b.results.insert(try document("5e-324")))
        let rows = try b.results.aggregate(groupBy: .model, metrics: ["avg_tps", "p50_latency_ms"]).rows
        #expect(rows.map(\.count) == [5])
        #expect(rows.first?.averages.last == 20)
        for id in ids.prefix(3) { #expect(try b.results.delete(id: id)) }
        #expect(try b.results.aggregate(groupBy: .model, metrics: ["avg_tps"]).rows.map(\.count) == [2])
        #expect(try b.results.insert(try document("1")).count == 16)
    }

    // SQLite only: the SQLite v5 migration backfilling its summary tables.
    @Test func migrationBackfillsTheSummariesOfExistingResults() throws {
        // A v4 database with results, then opened by this kitt (v5 backfills).
        let t = try TempStore()
        let path = t.directory.appendingPathComponent("v4.db").path
        var g = Generator(state: 42)
        do {
            let db = try Database(path: path)
            try db.migrate(Array(Store.migrations.prefix { $0.version < 5 }))
            // Without the v5 tables, inserts cannot keep summaries: store the rows as v4 did.
            let documents = try (0..<2500).map { _ in try Self.randomDocument(&g) }
            try db.write { c in
                for document in documents {
                    try c.run(
                        "INSERT INTO runs (id, model, engine, suite_name, timestamp, document, created_at) VALUES (?, ?, ?, ?, ?, ?, '')",
                        [.text(StoreID.make()), .text(document.model), .text(document.engine), .text(document.suiteName),
                         .text(document.timestamp), .text(String(decoding: document.bytes, as: UTF8.self))])
                    let run = SQLiteValue.integer(c.lastInsertRowID)
                    try c.run("INSERT INTO benchmarks (run) VALUES (?)", [run])
                    let benchmark = SQLiteValue.integer(c.lastInsertRowID)
                    for metric in document.benchmarks.flatMap(\.metrics) {
                        try c.run("INSERT INTO metrics (run, benchmark_id, name, value) VALUES (?, ?, ?, ?)",
                                  [run, benchmark, .text(metric.name), .real(metric.value)])
                    }
                }
            }
            db.close()
        }
        let store = try Store(path: path)
        defer { store.close() }
        try Self.checkChunks(store)
        try Self.checkAggregates(store)
        try Self.checkPages(store, pageSize: 100)
    }
}

private struct RolledBack: Error {}
