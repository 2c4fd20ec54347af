import KittJSON
import KittSQLite
@testable import KittStore
import Testing

/// Schema v12 (a run's benchmark and metric rows keyed by its id range, no indexes, a
/// trigger instead of cascades) on a store with data written as kitt did up to v11: every
/// answer is the same after the migration, and the store keeps answering as plain SQL does
/// through later inserts and deletes.
@Suite(.serialized) struct ChildRowsMigrationTests {
    static let filters = [
        ResultFilter(), ResultFilter(model: "beta"), ResultFilter(engine: "ollama"), ResultFilter(suiteName: "quick"),
        ResultFilter(model: "alpha", engine: "vllm"), ResultFilter(model: "é:1", suiteName: "standard"),
        ResultFilter(engine: "llama_cpp", suiteName: "quick"),
        ResultFilter(model: "delta", engine: "ollama", suiteName: "standard"),
    ]

    /// Every answer the results API gives, as bytes or text: each filter's pages (7 per page),
    /// the aggregates by each group and every result by id.
    static func answers(_ results: ResultsRepository, ids: [String]) throws -> [String] {
        var out: [String] = []
        for filter in filters {
            var offset = 0
            var total = 0
            repeat {
                let page = try results.list(filter, limit: 7, offset: offset)
                total = page.total
                out.append("\(filter) \(offset) \(page.total): " + page.items.map { String(decoding: $0.bytes, as: UTF8.self) }.joined(separator: ","))
                offset += 7
            } while offset < total
        }
        for group in ResultGroup.allCases {
            let aggregate = try results.aggregate(groupBy: group, metrics: ["avg_tps", "p50_latency_ms", "missing"])
            out += aggregate.rows.map { "\(group) \($0.value) \($0.count) \($0.averages)" }
        }
        out += try results.get(ids: ids).map { String(decoding: $0.bytes, as: UTF8.self) }
        return out
    }

    @Test func v11StoreWithResultsMigratesWithTheSameAnswers() throws {
        let t = try TempStore()
        let path = t.directory.appendingPathComponent("v11.db").path
        var g = ResultSummariesTests.Generator(state: 0xC0FF_EE12_3456_789A)
        let documents = try (0..<600).map { _ in try ResultSummariesTests.randomDocument(&g) }
        var ids: [String] = []
        let answersBefore: [String]
        let childrenBefore: [[String]]
        do {
            let db = try Database(path: path)
            defer { db.close() }
            // Results stored as v4 wrote them (v5 and v9 then backfill the summaries), the
            // children written in the reverse order of their runs so that their old ids
            // follow neither runs nor documents.
            try db.migrate(Array(Store.migrations.prefix { $0.version < 5 }))
            try db.write { c in
                var rids: [Int64] = []
                for document in documents {
                    let id = StoreID.make()
                    ids.append(id)
                    try c.run(
                        """
                        INSERT INTO runs (id, model, engine, suite_name, timestamp, passed, total_benchmarks, document, created_at)
                        VALUES (?, ?, ?, ?, ?, ?, ?, ?, '2026-01-01T00:00:00Z')
                        """,
                        [.text(id), .text(document.model), .text(document.engine), .text(document.suiteName),
                         .text(document.timestamp), SQLiteValue(document.passed), SQLiteValue(document.totalBenchmarks),
                         .text(String(decoding: document.bytes, as: UTF8.self))])
                    rids.append(c.lastInsertRowID)
                }
                // Runs in pairs: a pair's rows interleaved (two of every three pairs), so
                // that a run's ids are not contiguous either.
                let runs = Array(zip(documents, rids).reversed())
                for (pair, start) in stride(from: 0, to: runs.count, by: 2).enumerated() {
                    let group = Array(runs[start..<min(runs.count, start + 2)])
                    let interleave = pair % 3 != 0
                    // Benchmarks: run by run, or one of each run in turn.
                    var order: [(run: Int, benchmark: Int)] = []
                    let most = group.map(\.0.benchmarks.count).max() ?? 0
                    if interleave {
                        for b in 0..<most { for r in group.indices where b < group[r].0.benchmarks.count { order.append((r, b)) } }
                    } else {
                        for r in group.indices { for b in group[r].0.benchmarks.indices { order.append((r, b)) } }
                    }
                    var benchmarkIDs: [[Int64]] = group.map { _ in [] }
                    for (r, b) in order {
                        let benchmark = group[r].0.benchmarks[b]
                        try c.run(
                            "INSERT INTO benchmarks (run, test_name, test_version, run_number, passed) VALUES (?, ?, ?, ?, ?)",
                            [.integer(group[r].1), .text(benchmark.testName), .text(benchmark.testVersion),
                             SQLiteValue(benchmark.runNumber), SQLiteValue(benchmark.passed)])
                        benchmarkIDs[r].append(c.lastInsertRowID)
                    }
                    var metricRows: [[(Int64, String, Double)]] = group.map { _ in [] }
                    for (index, (document, rid)) in group.enumerated() {
                        for (benchmark, benchmarkID) in zip(document.benchmarks, benchmarkIDs[index]) {
                            metricRows[index] += benchmark.metrics.map { (benchmarkID, $0.name, $0.value) }
                        }
                        if let h = document.hardware {
                            try c.run(
                                "INSERT INTO hardware (run, gpu_model, gpu_count, fingerprint) VALUES (?, ?, ?, ?)",
                                [.integer(rid), SQLiteValue(h.gpuModel), SQLiteValue(h.gpuCount), SQLiteValue(h.fingerprint)])
                        }
                        if !interleave {
                            try Self.insertMetrics(metricRows[index], run: rid, into: c)
                            metricRows[index] = []
                        }
                    }
                    // Interleaved: one metric row of each run in turn.
                    let longest = metricRows.map(\.count).max() ?? 0
                    for position in 0..<longest {
                        for (index, (_, rid)) in group.enumerated() where position < metricRows[index].count {
                            try Self.insertMetrics([metricRows[index][position]], run: rid, into: c)
                        }
                    }
                }
            }
            try db.migrate(Array(Store.migrations.prefix { $0.version < 12 }))
            #expect(try db.schemaVersion == 11)
            // The old ids really are out of run order (else this test proves little).
            let reversed = try db.read {
                try $0.queryOne(
                    "SELECT (SELECT run FROM metrics ORDER BY id LIMIT 1) > (SELECT run FROM metrics ORDER BY id DESC LIMIT 1)"
                )?.int(0)
            }
            #expect(reversed == 1)
            // Some runs' rows are contiguous ids (as kitt wrote them), some not.
            for table in ["benchmarks", "metrics"] {
                let runs = try db.read { c in
                    try c.queryOne(
                        """
                        SELECT SUM(n = last - first + 1), SUM(n != last - first + 1)
                        FROM (SELECT COUNT(*) AS n, MIN(id) AS first, MAX(id) AS last FROM \(table) GROUP BY run)
                        """)
                }
                #expect((runs?.int(0) ?? 0) > 50 && (runs?.int(1) ?? 0) > 50, "\(table)")
            }
            // Today's list reads take head counts from v14's table. The backfills key every
            // chunk by a run (no head rows yet), so an empty stand-in answers as v11 did.
            #expect(try db.read { try $0.queryOne("SELECT COUNT(*) FROM run_chunks WHERE ts = x''")?.int(0) } == 0)
            try db.write { c in
                try c.execute("CREATE TABLE run_chunk_heads (kind TEXT, value TEXT, count INTEGER, PRIMARY KEY (kind, value))")
            }
            answersBefore = try Self.answers(ResultsRepository(database: db), ids: ids)
            try db.write { c in try c.execute("DROP TABLE run_chunk_heads") }
            childrenBefore = try SchemaMigrationTests.children(db, runKey: "run", join: "r.rid")
        }
        #expect(childrenBefore.map(\.count)[0] > 600 && childrenBefore.map(\.count)[1] > 600)

        let store = try Store(path: path)
        defer { store.close() }
        #expect(try store.database.schemaVersion == Store.migrations.last?.version)
        #expect(try Self.answers(store.results, ids: ids) == answersBefore)
        #expect(try SchemaMigrationTests.children(store.database, runKey: "run", join: "r.rid") == childrenBefore)
        try SchemaMigrationTests.expectChildIDsInTheirRunsRange(store.database)

        // Later writes on the migrated store: deletes (through the repository, and one plain
        // DELETE that the trigger follows) and inserts keep every answer equal to plain SQL.
        ResultListChunks.capacity.store(8, ordering: .relaxed)
        defer { ResultListChunks.capacity.store(1024, ordering: .relaxed) }
        for id in ids.enumerated().filter({ $0.offset % 3 == 0 }).map(\.element) {
            #expect(try store.results.delete(id: id))
        }
        let more = try (0..<100).map { _ in try ResultSummariesTests.randomDocument(&g) }
        let newIDs = try store.results.insertAll(more)
        try ResultSummariesTests.checkAggregates(store)
        try ResultSummariesTests.checkPages(store, pageSize: 9)
        try ResultSummariesTests.checkChunks(store)
        try SchemaMigrationTests.expectChildIDsInTheirRunsRange(store.database)
        // Each new result's rows are those of its document, in its run's range.
        let counts = try store.database.read { c in
            try newIDs.map { id -> [Int] in
                let rid = try c.queryOne("SELECT rid FROM runs WHERE id = ?", [.text(id)])?.int64(0) ?? -1
                return try ["benchmarks", "metrics"].map { table in
                    try c.queryOne(
                        "SELECT COUNT(*) FROM \(table) WHERE run = ? AND id >= ? AND id < ?",
                        [.integer(rid), .integer(rid << 24), .integer((rid + 1) << 24)])?.int(0) ?? -1
                }
            }
        }
        #expect(counts == more.map { [$0.benchmarks.count, $0.benchmarks.reduce(0) { $0 + $1.metrics.count }] })
        try store.database.write { c in try c.run("DELETE FROM runs WHERE id = ?", [.text(newIDs[0])]) }
        let orphans = try store.database.read { c in
            try ["benchmarks", "metrics", "hardware"].map { table in
                try c.queryOne("SELECT COUNT(*) FROM \(table) WHERE run NOT IN (SELECT rid FROM runs)")?.int(0) ?? -1
            }
        }
        #expect(orphans == [0, 0, 0])
    }

    static func insertMetrics(_ rows: [(Int64, String, Double)], run: Int64, into c: Connection) throws {
        for (benchmarkID, name, value) in rows {
            try c.run(
                "INSERT INTO metrics (run, benchmark_id, name, value) VALUES (?, ?, ?, ?)",
                [.integer(run), .integer(benchmarkID), .text(name), .real(value)])
        }
    }

    /// Rows copied in with ids of another numbering (`kitt migrate` from PostgreSQL) are put
    /// in their runs' ranges by the summaries rebuild: deletes then take them and their
    /// metrics out, as for rows the store wrote itself.
    @Test func copiedRowsAreRenumberedIntoTheirRunsRanges() throws {
        let t = try TempStore()
        var g = ResultSummariesTests.Generator(state: 0xFEED_5EED_1234_5678)
        let ids = try t.store.results.insertAll((0..<60).map { _ in try ResultSummariesTests.randomDocument(&g) })
        let before = try SchemaMigrationTests.children(t.store.database, runKey: "run", join: "r.rid")
        // Another numbering: negative, in reverse order of the store's own.
        try t.store.database.write { c in
            try c.execute(
                "UPDATE benchmarks SET id = -id; UPDATE metrics SET id = -id, benchmark_id = -benchmark_id")
            try Schema.rebuildResultSummaries(c)
        }
        // The same rows, each metric under its own benchmark (their order within a run is
        // now the copied numbering's: reversed).
        let after = try SchemaMigrationTests.children(t.store.database, runKey: "run", join: "r.rid")
        #expect(after.map { $0.sorted() } == before.map { $0.sorted() })
        #expect(after[1] != before[1])
        try SchemaMigrationTests.expectChildIDsInTheirRunsRange(t.store.database)
        for id in ids.enumerated().filter({ $0.offset % 2 == 0 }).map(\.element) {
            #expect(try t.store.results.delete(id: id))
        }
        try ResultSummariesTests.checkAggregates(t.store)
        try ResultSummariesTests.checkPages(t.store, pageSize: 11)
        let orphans = try t.store.database.read { c in
            try ["benchmarks", "metrics"].map { table in
                try c.queryOne("SELECT COUNT(*) FROM \(table) WHERE run NOT IN (SELECT rid FROM runs)")?.int(0) ?? -1
            }
        }
        #expect(orphans == [0, 0])
    }

    /// A result with many metric names (past the scan that matches few) and repeats across
    /// its benchmarks: its rows, ids and the aggregate are those of plain SQL.
    @Test func manyMetricNamesAreEachSummed() throws {
        let t = try TempStore()
        func benchmark(_ n: Int) -> String {
            let metrics = (0..<(20 + n)).map { #""m\#($0)": \#(n * 100 + $0)"# }
            return #"{"test_name": "t\#(n)", "metrics": {\#(metrics.joined(separator: ", "))}}"#
        }
        let json = #"{"model": "m", "engine": "e", "timestamp": "2026-01-01T00:00:00Z", "results": [\#((0..<3).map(benchmark).joined(separator: ", "))]}"#
        let document = try ResultDocument(bytes: Array(json.utf8))
        #expect(document.benchmarks.map(\.metrics.count) == [20, 21, 22])
        try t.store.results.insert(document)
        let names = (0..<22).map { "m\($0)" }
        let expected = try t.store.database.read { try ResultSummariesTests.plainAggregate($0, "model", names) }
        let got = try t.store.results.aggregate(groupBy: .model, metrics: names).rows
        #expect(got == expected)
        #expect(got.first?.averages.compactMap { $0 }.count == 22)
        try SchemaMigrationTests.expectChildIDsInTheirRunsRange(t.store.database)
    }

    /// A result whose rows would not fit in its run's id range is refused, not stored in part.
    @Test func runKeysBeyondTheRangesAreRefused() throws {
        let document = try ResultDocument(bytes: resultJSON())
        #expect(throws: ResultTooLarge.self) { try ResultChildIDs(run: Int64.max / 16_777_216, document: document) }
        #expect(throws: ResultTooLarge.self) { try ResultChildIDs(run: -1, document: document) }
        #expect(try ResultChildIDs(run: 3, document: document).first == 3 << 24)
        #expect(ResultChildIDs.range(run: 2) == (2 << 24)..<(3 << 24))
        #expect(ResultChildIDs.range(run: Int64.max).isEmpty)
    }
}
