import KittJSON
import KittSQLite
@testable import KittStore
import Testing

/// The writer keeps the heads of the lists between transactions (`ListHeadCache`): writes by
/// another connection to the same file (another process's `kitt import`, a second store)
/// must make it read them again, or runs land in the wrong chunks and pages go wrong.
@Suite(.serialized) struct ListHeadCacheTests {
    @Test func writesFromAnotherConnectionAreSeen() throws {
        ResultListChunks.capacity.store(2, ordering: .relaxed)
        defer { ResultListChunks.capacity.store(1024, ordering: .relaxed) }
        let t = try TempStore()
        let other = try Store(path: t.directory.appendingPathComponent("kitt.db").path)
        defer { other.close() }
        var g = ResultSummariesTests.Generator(state: 0x5EED_0F_CAC4E)
        var ids: [String] = []
        for step in 0..<240 {
            // Mostly single agent-like reports (the cached head path) from either store, with
            // a timestamp newer than all before, some older ones, and a few deletes.
            let store = Bool.random(using: &g) ? t.store : other
            if step % 9 == 8, let id = ids.randomElement(using: &g) {
                ids.removeAll { $0 == id }
                #expect(try store.results.delete(id: id))
                continue
            }
            var document = try ResultSummariesTests.randomDocument(&g)
            if step % 5 != 0 {
                let day = 10 + step / 60, second = step % 60
                document = try ResultDocument(
                    bytes: resultJSON(
                        model: document.model, engine: document.engine, suite: document.suiteName,
                        timestamp: "2026-02-\(day)T00:00:\(second < 10 ? "0" : "")\(second)Z"))
            }
            ids.append(try store.results.insert(document))
        }
        try ResultSummariesTests.checkChunks(t.store)
        try ResultSummariesTests.checkPages(t.store, pageSize: 7)
        try ResultSummariesTests.checkAggregates(t.store)
    }

    /// The writer's caches keep nothing for long names (their memory stays bounded whatever
    /// a client calls its model), and such results are stored and listed all the same.
    @Test func longNamesAreNotCachedButStoredAndListed() throws {
        let long = String(repeating: "m", count: 200_000)
        let sets = ListsOfSets()
        let made = sets.lists(model: long, engine: "vllm", suiteName: "s")
        #expect(made.count == 8)
        #expect(sets.count == 0)
        _ = sets.lists(model: "short", engine: "vllm", suiteName: "s")
        #expect(sets.count == 1)
        let heads = ListHeadCache()
        for list in made { heads[list] = (1, nil) }
        #expect(heads.count == 4)  // the lists without the model: all runs, the engine's, the suite's, both
        #expect(heads[made[1]] == nil)

        let t = try TempStore()
        let document = try ResultDocument(bytes: resultJSON(model: long))
        let id = try t.store.results.insert(document)
        let page = try t.store.results.list(ResultFilter(model: long), limit: 5, offset: 0)
        #expect(page.total == 1)
        #expect(page.items.count == 1)
        #expect(try t.store.results.get(id: id) != nil)
        try ResultSummariesTests.checkChunks(t.store)
    }
}
