import Dispatch
#if canImport(Glibc)
import Glibc
#endif
import KittSQLite
import Synchronization
import Testing

/// `writeAsync`: batching, per-write failure, commit-before-completion, close.
@Suite(.serialized) struct GroupCommitTests {
    /// Occupies the writer until `release` is signalled, so the writes enqueued meanwhile
    /// are all pending together and form the next batch.
    private static func blockWriter(_ db: Database) -> (running: DispatchSemaphore, release: DispatchSemaphore) {
        let running = DispatchSemaphore(value: 0)
        let release = DispatchSemaphore(value: 0)
        db.writeAsync({ _ in
            running.signal()
            _ = release.wait(timeout: .now() + 10)
            release.signal()  // a body may run twice (see `writeAsync`): let a second run pass
        }, completion: { _ in })
        return (running, release)
    }

    @Test func concurrentWritesAllCompleteInFewerBatches() throws {
        try withDatabase { db, _ in
            try db.write { try $0.execute("CREATE TABLE t (n INTEGER PRIMARY KEY)") }
            let batchesBefore = db.committedBatchCount
            let writes = 500
            let done = DispatchGroup()
            let succeeded = Mutex<Set<Int>>([])
            let failed = Mutex<[Int: any Error]>([:])
            DispatchQueue.concurrentPerform(iterations: writes) { n in
                done.enter()
                db.writeAsync({ c in
                    try c.run("INSERT INTO t (n) VALUES (?)", [SQLiteValue(n)])
                    if n % 50 == 7 { throw Boom() }  // after inserting: its savepoint must undo it
                    return n
                }, completion: { result in
                    switch result {
                    case .success(let value): succeeded.withLock { _ = $0.insert(value) }
                    case .failure(let error): failed.withLock { $0[n] = error }
                    }
                    done.leave()
                })
            }
            #expect(done.wait(timeout: .now() + 60) == .success)

            let failing = Set((0..<writes).filter { $0 % 50 == 7 })
            #expect(failed.withLock { Set($0.keys) } == failing)
            #expect(failed.withLock { $0.values.allSatisfy { $0 is Boom } })
            #expect(succeeded.withLock { $0 } == Set(0..<writes).subtracting(failing))
            let stored = try db.read { try $0.query("SELECT n FROM t").compactMap { $0.int(0) } }
            #expect(Set(stored) == Set(0..<writes).subtracting(failing))

            let batches = db.committedBatchCount - batchesBefore
            print("group commit: \(writes) writes in \(batches) batches")
            #expect(batches >= 1)
            #expect(batches < writes)
        }
    }

    @Test func writesPendingTogetherShareOneTransaction() throws {
        try withDatabase { db, _ in
            try db.write { try $0.execute("CREATE TABLE t (n INTEGER)") }
            let (running, release) = Self.blockWriter(db)
            #expect(wait(running))
            let before = db.committedBatchCount  // the blocker's batch has not committed yet
            let done = DispatchGroup()
            for n in 0..<10 {
                done.enter()
                db.writeAsync({ c in try c.run("INSERT INTO t VALUES (?)", [SQLiteValue(n)]) },
                              completion: { _ in done.leave() })
            }
            release.signal()
            #expect(done.wait(timeout: .now() + 10) == .success)
            #expect(db.committedBatchCount - before == 2)  // the blocker's batch, then all 10 in one
            #expect(try count(db) == 10)
        }
    }

    @Test func completionFiresOnlyAfterCommit() throws {
        try withDatabase { db, path in
            try db.write { try $0.execute("CREATE TABLE t (n INTEGER)") }
            let (running, release) = Self.blockWriter(db)
            #expect(wait(running))
            // A and a slow B land in one batch. If A's completion fired before COMMIT, B
            // would still be holding the transaction open and a new Database would not see A.
            let seenByFreshDatabase = Mutex<Int?>(nil)
            let completed = DispatchSemaphore(value: 0)
            db.writeAsync({ c in try c.run("INSERT INTO t VALUES (1)") }, completion: { result in
                guard case .success = result else { completed.signal(); return }
                let fresh = try? Database(path: path, readerCount: 1)
                let n = try? fresh?.read { try $0.queryOne("SELECT COUNT(*) FROM t WHERE n = 1")?.int(0) }
                fresh?.close()
                seenByFreshDatabase.withLock { $0 = n ?? nil }
                completed.signal()
            })
            db.writeAsync({ _ in usleep(300_000) }, completion: { _ in })
            release.signal()
            #expect(wait(completed))
            #expect(seenByFreshDatabase.withLock { $0 } == 1)
        }
    }

    /// Runs `bodies` as one batch (the writer held until all are queued); returns whether
    /// each succeeded, in order.
    private static func oneBatch(_ db: Database, _ bodies: [@Sendable (Connection) throws -> Void]) -> [Bool] {
        let (running, release) = blockWriter(db)
        #expect(wait(running))
        let results = Mutex<[Int: Bool]>([:])
        let done = DispatchGroup()
        for (n, body) in bodies.enumerated() {
            done.enter()
            db.writeAsync(body, completion: { result in
                results.withLock { $0[n] = (try? result.get()) != nil }
                done.leave()
            })
        }
        release.signal()
        #expect(done.wait(timeout: .now() + 10) == .success)
        return results.withLock { results in bodies.indices.map { results[$0] ?? false } }
    }

    /// Bodies run without savepoints of their own: one that fails before changing anything
    /// (here, in a statement that stops at its second row: SQLite undoes the statement) is
    /// just dropped, and the batch is not run again.
    @Test func aBodyThatFailsBeforeChangingAnything_isDroppedWithoutARedo() throws {
        try withDatabase { db, _ in
            try db.write { try $0.execute("CREATE TABLE t (n INTEGER PRIMARY KEY)") }
            let redoneBefore = db.redoneBatchCount
            let runs = Atomic<Int>(0)
            let outcomes = Self.oneBatch(db, [
                { c in runs.add(1, ordering: .relaxed); try c.run("INSERT INTO t VALUES (1)") },
                { c in runs.add(1, ordering: .relaxed); try c.run("INSERT INTO t VALUES (2), (1)") },  // 1 is taken
                { _ in runs.add(1, ordering: .relaxed); throw Boom() },
                { c in runs.add(1, ordering: .relaxed); try c.run("INSERT INTO t VALUES (3)") },
            ])
            #expect(outcomes == [true, false, false, true])
            #expect(db.redoneBatchCount == redoneBefore)
            #expect(runs.load(ordering: .relaxed) == 4)
            let stored = try db.read { try $0.query("SELECT n FROM t ORDER BY n").compactMap { $0.int(0) } }
            #expect(stored == [1, 3])
        }
    }

    /// A body that fails after changing rows: its batch is rolled back and run again, each
    /// body in its own savepoint; the failed body's changes are gone, every other body's are
    /// there once.
    @Test func aBodyThatFailsAfterChangingRows_redoesItsBatchWithSavepoints() throws {
        try withDatabase { db, _ in
            try db.write { try $0.execute("CREATE TABLE t (n INTEGER)") }
            let redoneBefore = db.redoneBatchCount
            let runs = Atomic<Int>(0)
            let outcomes = Self.oneBatch(db, [
                { c in runs.add(1, ordering: .relaxed); try c.run("INSERT INTO t VALUES (1)") },
                { c in
                    runs.add(1, ordering: .relaxed)
                    try c.run("INSERT INTO t VALUES (2)")
                    throw Boom()
                },
                { c in runs.add(1, ordering: .relaxed); try c.run("INSERT INTO t VALUES (3)") },
            ])
            #expect(outcomes == [true, false, true])
            #expect(db.redoneBatchCount == redoneBefore + 1)
            // First run: bodies 0 and 1 (1 fails, so 2 never runs); then all three again.
            #expect(runs.load(ordering: .relaxed) == 5)
            let stored = try db.read { try $0.query("SELECT n FROM t ORDER BY n").compactMap { $0.int(0) } }
            #expect(stored == [1, 3])
        }
    }

    @Test func failedCommitFailsTheWholeBatch() throws {
        try withDatabase { db, _ in
            try db.write { c in
                try c.execute("""
                    CREATE TABLE parent (id INTEGER PRIMARY KEY);
                    CREATE TABLE child (parent_id INTEGER REFERENCES parent(id) DEFERRABLE INITIALLY DEFERRED);
                    CREATE TABLE t (n INTEGER);
                    """)
            }
            let (running, release) = Self.blockWriter(db)
            #expect(wait(running))
            let results = Mutex<[Int: Bool]>([:])
            let done = DispatchGroup()
            for n in 0..<3 {
                done.enter()
                db.writeAsync({ c in
                    try c.run("INSERT INTO t VALUES (?)", [SQLiteValue(n)])
                    // A deferred foreign key is only checked at COMMIT: the body succeeds,
                    // the batch's COMMIT fails.
                    if n == 1 { try c.run("INSERT INTO child VALUES (42)") }
                }, completion: { result in
                    results.withLock { $0[n] = (try? result.get()) != nil }
                    done.leave()
                })
            }
            release.signal()
            #expect(done.wait(timeout: .now() + 10) == .success)
            #expect(results.withLock { $0 } == [0: false, 1: false, 2: false])
            #expect(try count(db) == 0)
            // The writer recovered: the next batch commits.
            let ok = DispatchSemaphore(value: 0)
            db.writeAsync({ c in try c.run("INSERT INTO t VALUES (9)") }, completion: { if case .success = $0 { _ = ok.signal() } })
            #expect(wait(ok))
            #expect(try count(db) == 1)
        }
    }

    @Test func closeDrainsPendingWritesThenRefusesWork() throws {
        let dir = try TempDirectory()
        let path = dir.path()
        let db = try Database(path: path)
        try db.write { try $0.execute("CREATE TABLE t (n INTEGER)") }
        let (running, release) = Self.blockWriter(db)
        #expect(wait(running))
        let succeeded = Atomic<Int>(0)
        for n in 0..<20 {
            db.writeAsync({ c in try c.run("INSERT INTO t VALUES (?)", [SQLiteValue(n)]) },
                          completion: { if case .success = $0 { succeeded.add(1, ordering: .relaxed) } })
        }
        release.signal()
        db.close()  // waits for the 20 pending writes and their completions
        #expect(succeeded.load(ordering: .relaxed) == 20)

        #expect(throws: SQLiteError.self) { try db.read { _ in 1 } }
        #expect(throws: SQLiteError.self) { try db.write { _ in 1 } }
        let refused = DispatchSemaphore(value: 0)
        db.writeAsync({ _ in 1 }, completion: { if case .failure = $0 { refused.signal() } })
        #expect(wait(refused))
        db.close()  // idempotent

        let reopened = try Database(path: path)
        defer { reopened.close() }
        #expect(try count(reopened) == 20)
    }

    @Test func closeFromACompletionDoesNotDeadlock() throws {
        let dir = try TempDirectory()
        let db = try Database(path: dir.path())
        let closed = DispatchSemaphore(value: 0)
        db.writeAsync({ c in try c.execute("CREATE TABLE t (n)") }, completion: { _ in
            db.close()
            closed.signal()
        })
        #expect(wait(closed, seconds: 5))
        #expect(throws: SQLiteError.self) { try db.read { _ in 1 } }
    }
}
