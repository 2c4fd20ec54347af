import Dispatch
import KittSQLite
import Synchronization
import Testing

/// `dataVersion` moves with every commit by any connection (another `Database` on the same
/// file stands for another process); commit accumulators flush once per transaction and
/// lose what a failed group-commit body added; `readAsync` answers off the caller's thread.
@Suite struct DataVersionAndAccumulatorTests {
    /// Counts rows added by write bodies and writes the total once, before COMMIT.
    final class RowCounter: CommitAccumulator {
        var added = 0
        init() {}
        func absorb(_ other: any CommitAccumulator) { added += (other as? RowCounter)?.added ?? 0 }
        func flush(into connection: Connection) throws {
            try connection.run("UPDATE totals SET rows = rows + ?, flushes = flushes + 1", [SQLiteValue(added)])
        }
    }

    @Test func dataVersionMovesOnCommitsByAnyConnection() throws {
        try withDatabase { db, path in
            try db.write { try $0.execute("CREATE TABLE t (x INTEGER)") }
            let start = try db.dataVersion
            #expect(try db.dataVersion == start, "nothing committed: unchanged")
            try db.write { try $0.run("INSERT INTO t VALUES (1)") }
            let afterOwn = try db.dataVersion
            #expect(afterOwn != start)
            let other = try Database(path: path, readerCount: 1)
            defer { other.close() }
            try other.write { try $0.run("INSERT INTO t VALUES (2)") }
            #expect(try db.dataVersion != afterOwn, "a commit through another connection is seen")
        }
    }

    @Test func accumulatorsFlushOncePerBatchWithoutFailedBodies() throws {
        try withDatabase { db, _ in
            try db.write { c in
                try c.execute("CREATE TABLE items (x INTEGER); CREATE TABLE totals (rows INTEGER, flushes INTEGER)")
                try c.run("INSERT INTO totals VALUES (0, 0)")
            }
            struct Failed: Error {}
            let done = DispatchSemaphore(value: 0)
            // Hold the writer so the 20 bodies below form one batch. The gate may be in that
            // batch, which runs twice (bodies fail after inserting): it lets a second run pass.
            let gate = DispatchSemaphore(value: 0)
            db.writeAsync({ _ in gate.wait(); gate.signal() }, completion: { _ in done.signal() })
            for i in 0..<20 {
                db.writeAsync({ c in
                    try c.run("INSERT INTO items VALUES (?)", [SQLiteValue(i)])
                    c.accumulator(RowCounter.self).added += 1
                    if i % 5 == 0 { throw Failed() }  // rolled back with what it accumulated
                }, completion: { _ in done.signal() })
            }
            gate.signal()
            for _ in 0...20 { #expect(wait(done)) }
            let row = try db.read { try $0.queryOne("SELECT rows, flushes, (SELECT COUNT(*) FROM items) FROM totals") }
            #expect(row?.int(0) == 16)
            #expect(row?.int(2) == 16)
            #expect(row?.int(1) ?? 0 <= 2, "one flush per batch")  // the gate's batch may run alone
            // A synchronous write flushes too, and its COMMIT is timed like a batch's.
            let commitsBefore = db.commitLatency.snapshot().cumulativeCounts.last ?? 0
            try db.write { c in c.accumulator(RowCounter.self).added = 5 }
            #expect(try db.read { try $0.queryOne("SELECT rows FROM totals")?.int(0) } == 21)
            #expect(db.commitLatency.snapshot().cumulativeCounts.last == commitsBefore + 1)
        }
    }

    @Test func readAsyncAnswersOnAReaderWorker() throws {
        try withDatabase(readerCount: 2) { db, _ in
            let done = DispatchSemaphore(value: 0)
            let answers = Mutex<[Int]>([])
            for i in 0..<10 {
                db.readAsync({ c in try c.queryOne("SELECT ? + 1", [SQLiteValue(i)])?.int(0) ?? -1 }) { result in
                    answers.withLock { $0.append((try? result.get()) ?? -1) }
                    done.signal()
                }
            }
            for _ in 0..<10 { #expect(wait(done)) }
            #expect(answers.withLock { $0.sorted() } == Array(1...10))
        }
    }
}
