import KittJSON
import KittSQLite
import KittStore
import KittTestSupport
import Testing

/// Through `ResultsStoring`, on every available backend (SQLite, PostgreSQL).
@Suite struct ResultsRepositoryTests {
    @Test(arguments: Backend.available)
    func insertKeepsBytesAndIndexesColumnsBenchmarksMetricsHardware(backend: Backend) throws {
        let b = try backend.open()
        let bytes = resultJSON()
        let id = try b.results.insert(try ResultDocument(bytes: bytes))
        #expect(StoreID.isValid(id))

        // Served bytes: {"id":"...", + the document after its "{", byte for byte.
        let item = try #require(try b.results.get(id: id))
        #expect(item.bytes == Array(#"{"id":"\#(id)","#.utf8) + bytes.dropFirst())
        let parsed = try JSON(parsing: item.bytes)
        #expect(parsed["id"]?.stringValue == id)
        #expect(parsed["model"]?.stringValue == "llama-3-8b")

        let row = try #require(
            try b.row("SELECT model, engine, suite_name, timestamp, passed, total_benchmarks, total_time_seconds, kitt_version FROM runs WHERE id = ?", [.text(id)]))
        #expect(row.string(0) == "llama-3-8b")
        #expect(row.string(1) == "vllm")
        #expect(row.string(2) == "standard")
        #expect(row.string(3) == "2026-01-01T00:00:00Z")
        #expect(row.bool(4) == true)
        #expect(row.int(5) == 2)
        #expect(row.double(6) == 12.5)
        #expect(row.string(7) == "1.2.0")
        let counts = try ["benchmarks", "metrics", "hardware"].map {
            try b.row("SELECT COUNT(*) FROM \($0) WHERE run = (SELECT rid FROM runs WHERE id = ?)", [.text(id)])?.int(0) ?? -1
        }
        // 2 benchmarks; numeric metrics only (avg_tps, p50_latency_ms, avg_tps): booleans and strings are not metrics.
        #expect(counts == [2, 3, 1])
        let version = try b.row("SELECT test_version FROM benchmarks WHERE run = (SELECT rid FROM runs WHERE id = ?) AND test_name = 'latency'", [.text(id)])?.string(0)
        #expect(version == "2")
        let gpu = try b.row("SELECT gpu_model, gpu_count, cpu_cores, ram_gb FROM hardware WHERE run = (SELECT rid FROM runs WHERE id = ?)", [.text(id)])
        #expect(gpu?.string(0) == "H100")
        #expect(gpu?.int(1) == 8)
        #expect(gpu?.int(2) == 64)
        #expect(gpu?.double(3) == 512)
    }

    // No store involved: ResultDocument's parsing, the same for both backends.
    @Test func documentValidation() {
        #expect(throws: ResultDocument.Invalid.self) { try ResultDocument(bytes: Array("[1]".utf8)) }
        #expect(throws: ResultDocument.Invalid.self) { try ResultDocument(bytes: Array(#"{"engine":"x"}"#.utf8)) }
        #expect(throws: ResultDocument.Invalid.self) { try ResultDocument(bytes: Array(#"{"model":1,"engine":"x"}"#.utf8)) }
        #expect(throws: ResultDocument.Invalid.self) { try ResultDocument(bytes: Array(#"{"model":"m""#.utf8)) }
        let lenient = try? ResultDocument(bytes: Array(#"{"model":"m","engine":"e","passed":"yes","results":"no"}"#.utf8))
        #expect(lenient?.passed == false)
        #expect(lenient?.benchmarks.isEmpty == true)
        #expect(lenient?.timestamp.isEmpty == false)  // defaults to the time of storing
    }

    /// A bulk batch's ids share their first 4 hex characters (so they land together in the
    /// id index) and are otherwise random: valid, all different, and batches differ.
    // SQLite only: the PostgreSQL store makes its own ids.
    @Test func aBatchsIDsShareAPrefixAndStayRandom() throws {
        let t = try TempStore()
        var prefixes = Set<Substring>()
        var all = Set<String>()
        for batch in 0..<8 {
            let documents = try (0..<200).map { n in
                try ResultDocument(bytes: Array(#"{"model":"m","engine":"e","timestamp":"2026-01-01T00:00:\#(batch)\#(n)Z"}"#.utf8))
            }
            let ids = try t.store.results.insertNew(documents).map { try #require($0) }
            #expect(ids.allSatisfy(StoreID.isValid))
            #expect(Set(ids.map { $0.prefix(4) }).count == 1)
            #expect(Set(ids.map { $0.dropFirst(4) }).count == ids.count)
            prefixes.insert(ids[0].prefix(4))
            all.formUnion(ids)
        }
        #expect(all.count == 8 * 200)
        #expect(prefixes.count > 1)  // eight draws of 16 bits all equal: 2^-112
    }

    @Test(arguments: Backend.available)
    func whitespaceAroundDocumentStillSplices(backend: Backend) throws {
        let b = try backend.open()
        let bytes = Array("  \n{ \"model\" : \"m\", \"engine\":\"e\" }\n".utf8)
        let id = try b.results.insert(try ResultDocument(bytes: bytes))
        let item = try #require(try b.results.get(id: id))
        let parsed = try JSON(parsing: item.bytes)
        #expect(parsed["id"]?.stringValue == id)
        #expect(parsed["engine"]?.stringValue == "e")
    }

    @Test(arguments: Backend.available)
    func listNewestFirstWithFiltersAndPaging(backend: Backend) throws {
        let b = try backend.open()
        var ids: [String] = []
        for i in 0..<7 {
            let doc = resultJSON(
                model: i % 2 == 0 ? "a" : "b", engine: i < 4 ? "vllm" : "ollama", suite: "s\(i % 3)",
                timestamp: "2026-01-0\(i + 1)T00:00:00Z")
            ids.append(try b.results.insert(try ResultDocument(bytes: doc)))
        }
        let all = try b.results.list(ResultFilter(), limit: 3, offset: 0)
        #expect(all.total == 7)
        #expect(all.items.compactMap { try? JSON(parsing: $0.bytes)["id"]?.stringValue } == [ids[6], ids[5], ids[4]])
        let last = try b.results.list(ResultFilter(), limit: 3, offset: 6)
        #expect(last.items.count == 1)
        let beyond = try b.results.list(ResultFilter(), limit: 3, offset: 30)
        #expect(beyond.total == 7 && beyond.items.isEmpty)

        let modelA = try b.results.list(ResultFilter(model: "a"), limit: 25, offset: 0)
        #expect(modelA.total == 4)
        #expect(modelA.items.compactMap { try? JSON(parsing: $0.bytes)["id"]?.stringValue } == [ids[6], ids[4], ids[2], ids[0]])
        let both = try b.results.list(ResultFilter(model: "a", engine: "vllm"), limit: 25, offset: 0)
        #expect(both.total == 2)
        let suite = try b.results.list(ResultFilter(suiteName: "s1"), limit: 25, offset: 0)
        #expect(suite.total == 2)
        let none = try b.results.list(ResultFilter(model: "a' OR 1=1 --"), limit: 25, offset: 0)
        #expect(none.total == 0 && none.items.isEmpty)
        let nul = try b.results.list(ResultFilter(model: "a\u{0}"), limit: 25, offset: 0)
        #expect(nul.total == 0 && nul.items.isEmpty)
    }

    @Test(arguments: Backend.available)
    func aggregateAveragesMetricRowsPerGroup(backend: Backend) throws {
        let b = try backend.open()
        _ = try b.results.insert(try ResultDocument(bytes: resultJSON(model: "a", tps: 100)))
        _ = try b.results.insert(try ResultDocument(bytes: resultJSON(model: "a", tps: 200)))
        _ = try b.results.insert(try ResultDocument(bytes: resultJSON(model: "b", engine: "ollama", tps: 10)))
        _ = try b.results.insert(try ResultDocument(bytes: Array(#"{"model":"c","engine":"ollama"}"#.utf8)))
        let aggregate = try b.results.aggregate(groupBy: .model, metrics: ["avg_tps", "p50_latency_ms", "avg_tps"])
        let rows = aggregate.rows
        #expect(aggregate.metrics == ["avg_tps", "p50_latency_ms"])
        #expect(rows.count == 3)
        #expect(rows[0].value == "a")
        #expect(rows[0].count == 2)
        // avg_tps rows for a: 100, 300, 200, 600 → 300.
        #expect(rows[0].averages == [300, 20])
        #expect(rows[1].averages[0] == 20)
        #expect(rows[2].value == "c")
        #expect(rows[2].count == 1)
        #expect(rows[2].averages == [nil, nil])

        let engines = try b.results.aggregate(groupBy: .engine, metrics: []).rows
        #expect(engines.map(\.value) == ["ollama", "vllm"])
        #expect(engines.map(\.count) == [2, 2])
        let suites = try b.results.aggregate(groupBy: .suiteName, metrics: ["avg_tps"]).rows
        #expect(suites.first?.averages.count == 1)
        // A metric name no stored metric can have (NUL) averages to null.
        let nul = try b.results.aggregate(groupBy: .model, metrics: ["x\u{0}", "avg_tps"])
        #expect(nul.rows.map(\.averages) == [[nil, 300], [nil, 20], [nil, nil]])
    }

    /// `insertNew` (the import) writes without foreign-key checks, then turns them back on:
    /// a later delete still cascades to the run's benchmarks, metrics and hardware.
    @Test(arguments: Backend.available)
    func insertNewSkipsDuplicatesAndLeavesCascadesOn(backend: Backend) throws {
        let b = try backend.open()
        let first = try ResultDocument(bytes: resultJSON(model: "a"))
        let ids = try b.results.insertNew([first, try ResultDocument(bytes: resultJSON(model: "b")), first])
        #expect(ids.map { $0 != nil } == [true, true, false])
        #expect(try b.results.insertNew([first]) == [nil])
        let id = try #require(ids[0] ?? nil)
        let childRows = "SELECT (SELECT COUNT(*) FROM benchmarks) + (SELECT COUNT(*) FROM metrics) + (SELECT COUNT(*) FROM hardware)"
        let before = try b.row(childRows)?.int(0) ?? 0
        // SQLite only: the import switches foreign keys off there; PostgreSQL never does.
        if let sqlite = b.sqlite {
            #expect(try sqlite.database.write { try $0.queryOne("PRAGMA foreign_keys")?.int(0) } == 1)
        }
        #expect(try b.results.delete(id: id))
        let after = try b.row(childRows)?.int(0) ?? 0
        #expect(before > 0 && after * 2 == before)
    }

    @Test(arguments: Backend.available)
    func getManyInOrderAskedAndDeleteCascades(backend: Backend) throws {
        let store = try backend.open()
        let a = try store.results.insert(try ResultDocument(bytes: resultJSON(model: "a")))
        let b = try store.results.insert(try ResultDocument(bytes: resultJSON(model: "b")))
        let found = try store.results.get(ids: [b, "ffffffffffffffff", a])
        #expect(found.compactMap { try? JSON(parsing: $0.bytes)["id"]?.stringValue } == [b, a])
        // Repeats kept in the order asked; ids that need escaping in the JSON array the
        // lookup is made of (quote, backslash, NUL, non-ASCII) are simply not found.
        let asked = [b, a, #"x"\"#, "nul\u{0}", b, "é", a]
        let many = try store.results.get(ids: asked)
        #expect(many.compactMap { try? JSON(parsing: $0.bytes)["id"]?.stringValue } == [b, a, b, a])
        let one = try #require(try store.results.get(id: b))
        #expect(many[0].bytes == one.bytes && many[2].bytes == one.bytes)

        let rid = try #require(try store.row("SELECT rid FROM runs WHERE id = ?", [.text(a)])?.int(0))
        let before = try store.results.changeCount()
        // SQLite only: the process-wide counter of the SQLite results repository's commits.
        let deletedBefore = ResultsRepository.committedChanges.deleted
        #expect(try store.results.delete(id: a))
        #expect(try store.results.changeCount() > before)
        if store.sqlite != nil { #expect(ResultsRepository.committedChanges.deleted > deletedBefore) }
        #expect(try !store.results.delete(id: a))
        #expect(try !store.results.delete(id: "nul\u{0}"))
        #expect(try store.results.get(id: a) == nil)
        let leftovers = try ["benchmarks", "metrics", "hardware"].map {
            try store.row("SELECT COUNT(*) FROM \($0) WHERE run = ?", [.integer(rid)])?.int(0) ?? -1
        }
        #expect(leftovers == [0, 0, 0])
        // b's rows are untouched (2 benchmarks, 3 numeric metrics, 1 hardware).
        let kept = try ["benchmarks", "metrics", "hardware"].map { try store.row("SELECT COUNT(*) FROM \($0)")?.int(0) ?? -1 }
        #expect(kept == [2, 3, 1])
    }

    @Test(arguments: Backend.available)
    func containsFindsExactDocument(backend: Backend) throws {
        let b = try backend.open()
        let doc = try ResultDocument(bytes: resultJSON())
        #expect(try !b.results.contains(doc))
        _ = try b.results.insert(doc)
        #expect(try b.results.contains(doc))
        #expect(try !b.results.contains(try ResultDocument(bytes: resultJSON(tps: 1))))
    }
}
