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
}
