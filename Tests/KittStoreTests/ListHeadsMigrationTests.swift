import KittJSON
import KittSQLite
@testable import KittStore
import Testing

/// Schema v14 moves each list's head-chunk count from `run_chunks` (its row keyed by the
/// empty BLOB, as kitt wrote it up to v13) to `run_chunk_heads`: every answer is the same
/// after the migration, and later writes keep the chunks exact.
@Suite(.serialized) struct ListHeadsMigrationTests {
    @Test func aV13StoreWithHeadRowsMigratesWithTheSameAnswers() throws {
        ResultListChunks.capacity.store(8, ordering: .relaxed)
        defer { ResultListChunks.capacity.store(1024, ordering: .relaxed) }
        let t = try TempStore()
        let path = t.directory.appendingPathComponent("v13.db").path
        var g = ResultSummariesTests.Generator(state: 0x0BAD_CAFE_1234_5678)
        var ids: [String] = []
        let answersBefore: [String]
        let headsBefore: Int
        do {
            let store = try Store(path: path)
            defer { store.close() }
            // Batches that each put runs in the head chunks (and split some: capacity 8).
            for _ in 0..<12 {
                ids += try store.results.insertAll(try (0..<25).map { _ in try ResultSummariesTests.randomDocument(&g) })
            }
            answersBefore = try ChildRowsMigrationTests.answers(store.results, ids: ids)
            headsBefore = try store.database.read { try $0.queryOne("SELECT COUNT(*) FROM run_chunk_heads")?.int(0) ?? 0 }
            // Back to v13's shape: head rows in run_chunks, no heads table.
            try store.database.write { c in
                try c.execute(
                    """
                    INSERT INTO run_chunks SELECT kind, value, x'', '', count FROM run_chunk_heads;
                    DROP TABLE run_chunk_heads;
                    DELETE FROM schema_migrations WHERE version = 14;
                    """)
            }
            #expect(try store.database.schemaVersion == 13)
        }
        #expect(headsBefore > 10)

        let store = try Store(path: path)
        defer { store.close() }
        #expect(try store.database.schemaVersion == 14)
        let moved = try store.database.read { c in
            try ["SELECT COUNT(*) FROM run_chunk_heads", "SELECT COUNT(*) FROM run_chunks WHERE ts = x''"].map {
                try c.queryOne($0)?.int(0) ?? -1
            }
        }
        #expect(moved == [headsBefore, 0])
        #expect(try ChildRowsMigrationTests.answers(store.results, ids: ids) == answersBefore)
        try ResultSummariesTests.checkChunks(store)
        // Later inserts (head growth and splits) and deletes keep every answer exact.
        ids += try store.results.insertAll(try (0..<60).map { _ in try ResultSummariesTests.randomDocument(&g) })
        for id in ids.enumerated().filter({ $0.offset % 4 == 0 }).map(\.element) {
            #expect(try store.results.delete(id: id))
        }
        try ResultSummariesTests.checkAggregates(store)
        try ResultSummariesTests.checkPages(store, pageSize: 7)
        try ResultSummariesTests.checkChunks(store)
    }
}
