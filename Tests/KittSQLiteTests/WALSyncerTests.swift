import Dispatch
#if canImport(Glibc)
import Glibc
#endif
@testable import KittSQLite
import Synchronization
import Testing

/// The pipelined group commit (`WALSyncer`): a write is reported done only after a sync of
/// the WAL that started after its COMMIT, while the writer goes on with the next batch.
@Suite(.serialized) struct WALSyncerTests {
    /// A stand-in for fdatasync that the test holds back: it says when a sync starts and
    /// returns only when released (then calls the real fdatasync).
    final class HeldSync: Sendable {
        let started = DispatchSemaphore(value: 0)
        let release = DispatchSemaphore(value: 0)
        let calls = Atomic<Int>(0)
        let failing = Atomic<Bool>(false)

        var function: WALSyncer.SyncFunction {
            { [self] descriptor in
                calls.add(1, ordering: .relaxed)
                started.signal()
                release.wait()
                if failing.load(ordering: .relaxed) {
                    errno = EIO
                    return -1
                }
                return fdatasync(descriptor)
            }
        }
    }

    static func open(_ dir: borrowing TempDirectory, _ sync: HeldSync, synchronous: Synchronous = .full) throws -> Database {
        try Database(
            path: dir.path(), readerCount: 2, synchronous: synchronous, checkpointPolicy: CheckpointPolicy(),
            walSync: sync.function)
    }

    /// The table, through a write whose own sync is let through at once.
    static func createTable(_ db: Database, _ sync: HeldSync) throws {
        sync.release.signal()
        try db.write { try $0.execute("CREATE TABLE t (n INTEGER PRIMARY KEY)") }
        _ = wait(sync.started)
    }

    static func insert(_ db: Database, _ n: Int, done: @escaping @Sendable (Result<Void, any Error>) -> Void) {
        db.writeAsync({ try $0.run("INSERT INTO t (n) VALUES (?)", [SQLiteValue(n)]) }, completion: done)
    }

    @Test func aWriteIsReportedOnlyAfterTheWALIsSynced() throws {
        let dir = try TempDirectory()
        let sync = HeldSync()
        let db = try Self.open(dir, sync)
        defer { db.close() }
        try Self.createTable(db, sync)

        let reported = Atomic<Bool>(false)
        let done = DispatchSemaphore(value: 0)
        Self.insert(db, 1) { result in
            if case .success = result { reported.store(true, ordering: .relaxed) }
            done.signal()
        }
        #expect(wait(sync.started))  // the COMMIT has returned: the syncer is syncing
        #expect(try count(db) == 1)  // committed...
        let reportedEarly = reported.load(ordering: .relaxed)
        #expect(!reportedEarly)  // ...but not reported while the sync runs
        sync.release.signal()
        #expect(wait(done))
        let reportedAfter = reported.load(ordering: .relaxed)
        #expect(reportedAfter)
    }

    @Test func theWriterCommitsTheNextBatchWhileASyncRuns() throws {
        let dir = try TempDirectory()
        let sync = HeldSync()
        let db = try Self.open(dir, sync)
        defer { db.close() }
        try Self.createTable(db, sync)

        let order = Mutex<[Int]>([])
        let done = DispatchSemaphore(value: 0)
        Self.insert(db, 1) { _ in
            order.withLock { $0.append(1) }
            done.signal()
        }
        #expect(wait(sync.started))  // the first batch's sync is held
        Self.insert(db, 2) { _ in
            order.withLock { $0.append(2) }
            done.signal()
        }
        // The second batch commits although the first one's sync has not returned.
        var committed = false
        for _ in 0..<1_000 where !committed {
            committed = try count(db) == 2
            if !committed { usleep(5_000) }
        }
        #expect(committed)
        #expect(order.withLock { $0 }.isEmpty)
        sync.release.signal()  // the first sync
        #expect(wait(sync.started))  // the second batch needs a sync of its own
        sync.release.signal()
        #expect(wait(done) && wait(done))
        #expect(order.withLock { $0 } == [1, 2])  // in commit order
    }

    @Test func aFailedSyncFailsTheWritesItCovered() throws {
        let dir = try TempDirectory()
        let sync = HeldSync()
        let db = try Self.open(dir, sync)
        defer { db.close() }
        try Self.createTable(db, sync)

        sync.failing.store(true, ordering: .relaxed)
        let outcome = Mutex<Result<Void, any Error>?>(nil)
        let done = DispatchSemaphore(value: 0)
        Self.insert(db, 1) { result in
            outcome.withLock { $0 = result }
            done.signal()
        }
        sync.release.signal()
        #expect(wait(done))
        let failure = outcome.withLock { state -> (any Error)? in
            if case .failure(let error) = state { return error }
            return nil
        }
        #expect(failure is DurabilityError)

        sync.release.signal()
        #expect(throws: DurabilityError.self) { try db.write { try $0.run("INSERT INTO t (n) VALUES (2)") } }
        sync.failing.store(false, ordering: .relaxed)
    }

    @Test func normalSynchronousNeverWaitsForTheDisk() throws {
        let dir = try TempDirectory()
        let sync = HeldSync()
        let db = try Self.open(dir, sync, synchronous: .normal)
        defer { db.close() }
        try db.write { try $0.execute("CREATE TABLE t (n INTEGER PRIMARY KEY)") }
        let done = DispatchSemaphore(value: 0)
        Self.insert(db, 1) { _ in done.signal() }
        #expect(wait(done))  // the held sync would block it forever under .full
        let calls = sync.calls.load(ordering: .relaxed)
        #expect(calls == 0)
    }
}
