import Dispatch
import KittJSON
import KittSQLite
@testable import KittStore
import Testing

/// Agents' reports in one group commit gather their benchmark, metric and hardware rows and
/// write them together before COMMIT (`PendingResultChildRows`).
@Suite struct GroupCommitChildRowsTests {
    private struct Refused: Error {}

    /// Runs `bodies` as one group-commit batch: the writer is held by a first body (a batch
    /// of its own) until all of them are queued. Returns each body's outcome and the batches
    /// committed, the holder's included (2 when `bodies` were one batch).
    private static func oneBatch(
        _ database: Database, _ bodies: [@Sendable (Connection) throws -> String]
    ) throws -> (outcomes: [Result<String, any Error>], batches: Int) {
        let held = DispatchSemaphore(value: 0)
        let release = DispatchSemaphore(value: 0)
        let before = database.committedBatchCount
        database.writeAsync({ _ in
            held.signal()
            release.wait()
            release.signal()  // a body may run twice (see `writeAsync`): let a second run pass
        }, completion: { _ in })
        held.wait()
        let outcomes = OutcomeList(count: bodies.count)
        let done = DispatchGroup()
        for (index, body) in bodies.enumerated() {
            done.enter()
            database.writeAsync(body) { outcome in
                outcomes.set(index, outcome)
                done.leave()
            }
        }
        release.signal()
        #expect(done.wait(timeout: .now() + 30) == .success)
        return (outcomes.all, database.committedBatchCount - before)
    }

    private final class OutcomeList: @unchecked Sendable {
        private let lock = DispatchQueue(label: "outcomes")
        private var items: [Result<String, any Error>]
        init(count: Int) { items = Array(repeating: .failure(Refused()), count: count) }
        func set(_ index: Int, _ outcome: Result<String, any Error>) { lock.sync { items[index] = outcome } }
        var all: [Result<String, any Error>] { lock.sync { items } }
    }

    private static func childCounts(_ store: Store, id: String) throws -> [Int] {
        try store.database.read { c in
            try ["benchmarks", "metrics", "hardware"].map { table in
                try c.queryOne("SELECT COUNT(*) FROM \(table) WHERE run = (SELECT rid FROM runs WHERE id = ?)", [.text(id)])?
                    .int(0) ?? -1
            }
        }
    }

    @Test func everyReportOfABatchGetsItsRows_andABodyThatFailsLeavesNone() throws {
        let t = try TempStore()
        let ids = (0..<4).map { _ in StoreID.make() }
        let documents = try (0..<4).map { n in
            try ResultDocument(bytes: resultJSON(model: "m\(n % 2)", timestamp: "2026-03-0\(n + 1)T00:00:00Z", tps: Double(n + 1)))
        }
        let bodies: [@Sendable (Connection) throws -> String] = (0..<4).map { n in
            { c in
                try ResultsRepository.insert(documents[n], id: ids[n], into: c)
                if n == 2 { throw Refused() }  // after its rows were gathered
                return ids[n]
            }
        }
        let (outcomes, batches) = try Self.oneBatch(t.store.database, bodies)
        #expect(batches == 2)
        #expect(outcomes.map { (try? $0.get()) != nil } == [true, true, false, true])
        for n in [0, 1, 3] {
            #expect(try Self.childCounts(t.store, id: ids[n]) == [2, 3, 1])
        }
        // The failed body's run and rows are gone with its savepoint: no row without a run.
        #expect(try t.store.results.get(id: ids[2]) == nil)
        let orphans = try t.store.database.read { c in
            try ["benchmarks", "metrics", "hardware"].map { table in
                try c.queryOne("SELECT COUNT(*) FROM \(table) WHERE run NOT IN (SELECT rid FROM runs)")?.int(0) ?? -1
            }
        }
        #expect(orphans == [0, 0, 0])
        #expect(try t.store.database.read { c in try c.queryOne("SELECT COUNT(*) FROM metrics")?.int(0) } == 9)
        // Each run's rows are numbered in its own id range.
        for n in [0, 1, 3] {
            let range = try t.store.database.read { c in
                try c.queryOne(
                    "SELECT MIN(m.id) - r.rid * ?, MAX(m.id) - r.rid * ? FROM metrics m JOIN runs r ON r.rid = m.run WHERE r.id = ?",
                    [.integer(Schema.childIDStride), .integer(Schema.childIDStride), .text(ids[n])])
            }
            #expect(range?.int(0) == 0)
            #expect(range?.int(1) == 2)
        }
        // The summaries hold exactly the three stored runs: m0 has run 0 (avg_tps 1 and 3),
        // m1 runs 1 and 3 (2, 6, 4 and 12).
        let rows = try t.store.results.aggregate(groupBy: .model, metrics: ["avg_tps"]).rows
        #expect(rows.map(\.value) == ["m0", "m1"])
        #expect(rows.map(\.count) == [1, 2])
        #expect(rows.map(\.averages) == [[2], [6]])
    }

    /// A run is never deleted in the transaction that stored it: its rows are not written
    /// yet. The delete is refused and its body rolled back; the run stays, whole.
    @Test func deletingARunInTheTransactionThatStoresIt_isRefused() throws {
        let t = try TempStore()
        let id = StoreID.make()
        let document = try ResultDocument(bytes: resultJSON())
        let (outcomes, _) = try Self.oneBatch(t.store.database, [
            { c in
                try ResultsRepository.insert(document, id: id, into: c)
                return id
            },
            { c in
                _ = try ResultsRepository.delete(id: id, in: c)
                return "deleted"
            },
        ])
        #expect((try? outcomes[0].get()) == id)
        #expect(throws: ResultStoredInThisTransaction.self) { try outcomes[1].get() }
        #expect(try t.store.results.get(id: id) != nil)
        #expect(try Self.childCounts(t.store, id: id) == [2, 3, 1])
        // Once committed it can be deleted, rows and all.
        #expect(try t.store.results.delete(id: id))
        #expect(try Self.childCounts(t.store, id: id) == [0, 0, 0])
    }
}
