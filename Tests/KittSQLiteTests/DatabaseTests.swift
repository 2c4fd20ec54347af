import Dispatch
#if canImport(Glibc)
import Glibc
#endif
@testable import KittSQLite
import Synchronization
import Testing

/// Transactions, migrations, the reader pool and group commit.
/// Serialized: several tests measure who waits for whom, which two cores running other
/// tests at the same time would only make slower and noisier.
@Suite(.serialized) struct DatabaseTests {
    static let schema = [
        Migration(version: 1, name: "projects", sql: "CREATE TABLE projects (id INTEGER PRIMARY KEY, name TEXT NOT NULL UNIQUE)"),
        Migration(
            version: 2, name: "tasks",
            sql: """
                CREATE TABLE tasks (
                    id INTEGER PRIMARY KEY,
                    project_id INTEGER NOT NULL REFERENCES projects(id) ON DELETE CASCADE,
                    title TEXT NOT NULL);
                CREATE INDEX tasks_project ON tasks(project_id);
                """),
    ]

    @Test func writeRollsBackWhenBodyThrows() throws {
        try withDatabase { db, _ in
            try db.write { try $0.execute("CREATE TABLE t (n INTEGER)") }
            #expect(throws: Boom.self) {
                try db.write { c in
                    try c.run("INSERT INTO t VALUES (1)")
                    try c.run("INSERT INTO t VALUES (2)")
                    throw Boom()
                }
            }
            #expect(try count(db) == 0)
            // The writer is usable afterwards (no transaction left open).
            let n = try db.write { c in try c.run("INSERT INTO t VALUES (3)") }
            #expect(n == 1)
            #expect(try count(db) == 1)
        }
    }

    @Test func migratesFromEmptyInOrderAndIsIdempotent() throws {
        let dir = try TempDirectory()
        let path = dir.path()
        do {
            let db = try Database(path: path)
            defer { db.close() }
            #expect(try db.schemaVersion == 0)
            try db.migrate(Self.schema)  // 2 needs 1's table: order matters
            #expect(try db.schemaVersion == 2)
            let recorded = try db.read { try $0.query("SELECT version, name FROM schema_migrations ORDER BY version") }
            #expect(recorded.map { $0.int(0) } == [1, 2])
            #expect(recorded.map { $0.string("name") } == ["projects", "tasks"])
            try db.write { try $0.run("INSERT INTO projects (name) VALUES ('p')") }
        }
        do {  // reopen: nothing to do, data intact; a new migration applies alone
            let db = try Database(path: path)
            defer { db.close() }
            try db.migrate(Self.schema)
            #expect(try db.schemaVersion == 2)
            #expect(try count(db, "projects") == 1)
            let three = Migration(version: 3, name: "notes", sql: "ALTER TABLE projects ADD COLUMN notes TEXT")
            try db.migrate(Self.schema + [three])
            try db.migrate(Self.schema + [three])
            #expect(try db.schemaVersion == 3)
            #expect(try count(db, "schema_migrations") == 3)
        }
        do {  // an older kitt refuses the newer schema
            let db = try Database(path: path)
            defer { db.close() }
            let error = #expect(throws: SQLiteError.self) { try db.migrate(Self.schema) }
            #expect(error?.message == "database schema version 3 is newer than this kitt (knows up to 2)")
            #expect(try db.schemaVersion == 3)
        }
    }

    @Test func failingMigrationLeavesNoTrace() throws {
        try withDatabase { db, _ in
            let broken = Migration(version: 3, name: "broken", sql: "CREATE TABLE half (x); THIS IS NOT SQL;")
            let error = #expect(throws: SQLiteError.self) { try db.migrate(Self.schema + [broken]) }
            #expect(error?.message.contains("migration 3 (broken) failed") == true)
            #expect(try db.schemaVersion == 2)
            let half = try db.read { try $0.queryOne("SELECT 1 FROM sqlite_master WHERE name = 'half'") }
            #expect(half == nil)

            let unordered = [Self.schema[1], Self.schema[0]]
            #expect(throws: SQLiteError.self) { try db.migrate(unordered) }
        }
    }

    @Test func foreignKeysAreEnforcedAndCascade() throws {
        try withDatabase { db, _ in
            try db.migrate(Self.schema)
            try db.write { c in
                try c.run("INSERT INTO projects (id, name) VALUES (1, 'a'), (2, 'b')")
                try c.run("INSERT INTO tasks (project_id, title) VALUES (1, 'x'), (1, 'y'), (2, 'z')")
            }
            let orphan = #expect(throws: SQLiteError.self) {
                try db.write { try $0.run("INSERT INTO tasks (project_id, title) VALUES (99, 'orphan')") }
            }
            #expect(orphan?.isConstraintViolation == true && orphan?.extendedCode == 787)  // _FOREIGNKEY
            try db.write { try $0.run("DELETE FROM projects WHERE id = 1") }
            #expect(try count(db, "tasks") == 1)
        }
    }

    @Test func pragmasAtOpen() throws {
        try withDatabase(synchronous: .full) { db, _ throws in
            #expect(try db.read { try $0.queryOne("PRAGMA journal_mode")?.string(0) } == "wal")
            #expect(try db.write { try $0.queryOne("PRAGMA synchronous")?.int(0) } == 2)  // FULL
            #expect(try db.write { try $0.queryOne("PRAGMA foreign_keys")?.int(0) } == 1)
            #expect(try db.write { try $0.queryOne("PRAGMA busy_timeout")?.int(0) } == 5000)
        }
        try withDatabase(synchronous: .normal) { db, _ in
            #expect(try db.write { try $0.queryOne("PRAGMA synchronous")?.int(0) } == 1)  // NORMAL
            // Readers are read-only: a read closure cannot bypass the single writer.
            try db.write { try $0.execute("CREATE TABLE t (n)") }
            let error = #expect(throws: SQLiteError.self) { try db.read { try $0.run("INSERT INTO t VALUES (1)") } }
            #expect(error?.code == 8)  // SQLITE_READONLY
        }
    }

    /// A new file gets `newFilePageSize`; a file made with another page size keeps it (and
    /// its rows) when opened again.
    @Test func newFilesGetTheLargerPageSizeAndOldFilesKeepTheirs() throws {
        try withDatabase { db, _ throws in
            #expect(try db.read { try $0.queryOne("PRAGMA page_size")?.int(0) } == Database.newFilePageSize)
        }
        let dir = try TempDirectory()
        let path = dir.path()
        let old = try Connection(path: path, flags: 0x2 | 0x4)  // SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE
        try old.execute("PRAGMA page_size = 4096; CREATE TABLE t (n INTEGER); INSERT INTO t VALUES (7)")
        old.close()
        let db = try Database(path: path)
        defer { db.close() }
        #expect(try db.read { try $0.queryOne("PRAGMA page_size")?.int(0) } == 4096)
        #expect(try db.read { try $0.queryOne("SELECT n FROM t")?.int(0) } == 7)
        #expect(try db.write { try $0.queryOne("PRAGMA journal_mode")?.string(0) } == "wal")
    }

    /// `syncToDisk` fsyncs what a `.normal` writer has committed (the WAL, then the file),
    /// with or without a WAL file, and throws once the database is closed.
    @Test func syncToDiskAfterNormalCommits() throws {
        let dir = try TempDirectory()
        let path = dir.path()
        let db = try Database(path: path, synchronous: .normal)
        try db.write { try $0.execute("CREATE TABLE t (n INTEGER); INSERT INTO t VALUES (1)") }
        #expect(access(path + "-wal", F_OK) == 0)
        try db.syncToDisk()
        db.close()
        #expect(throws: SQLiteError.self) { try db.syncToDisk() }
        let again = try Database(path: path, synchronous: .normal)
        defer { again.close() }
        #expect(try again.read { try $0.queryOne("SELECT n FROM t")?.int(0) } == 1)
        try again.syncToDisk()
    }

    /// Bulk writes may turn off foreign keys and sort on disk for one transaction; the
    /// writer's usual settings come back after it, whether it commits or throws.
    @Test func bulkWriteSettingsHoldForOneTransactionOnly() throws {
        try withDatabase { db, _ throws in
            func settings(_ c: Connection) throws -> [Int?] {
                [try c.queryOne("PRAGMA foreign_keys")?.int(0), try c.queryOne("PRAGMA temp_store")?.int(0)]
            }
            #expect(try db.write { try settings($0) } == [1, 2])  // on, MEMORY
            #expect(try db.write(checkingForeignKeys: false, sortingOnDisk: true) { try settings($0) } == [0, 1])  // off, FILE
            #expect(try db.write { try settings($0) } == [1, 2])
            struct Failure: Error {}
            #expect(throws: Failure.self) { try db.write(checkingForeignKeys: true, sortingOnDisk: true) { _ in throw Failure() } }
            #expect(try db.write { try settings($0) } == [1, 2])
        }
    }

    @Test func readsDuringALongWriteSeeTheOldSnapshotWithoutWaiting() throws {
        try withDatabase { db, _ in
            try db.write { c in
                try c.execute("CREATE TABLE t (n INTEGER)")
                try c.run("INSERT INTO t VALUES (1)")
            }
            let insideWrite = DispatchSemaphore(value: 0)
            let readerDone = DispatchSemaphore(value: 0)
            let writerDone = DispatchSemaphore(value: 0)
            let writerSawReader = Mutex(false)
            DispatchQueue(label: "test.writer").async {
                _ = try? db.write { c in
                    try c.run("INSERT INTO t VALUES (2)")
                    insideWrite.signal()
                    // Hold the transaction open until the reader has finished (or give up).
                    let sawReader = wait(readerDone, seconds: 5)
                    writerSawReader.withLock { $0 = sawReader }
                }
                writerDone.signal()
            }
            #expect(wait(insideWrite))
            // If reads waited for the writer, this would only return after the 5 s timeout,
            // and would then see 2 rows.
            #expect(try count(db) == 1)
            readerDone.signal()
            #expect(wait(writerDone))
            #expect(writerSawReader.withLock { $0 })
            #expect(try count(db) == 2)
        }
    }

    @Test func oneReadIsOneSnapshot() throws {
        try withDatabase { db, _ in
            try db.write { try $0.execute("CREATE TABLE t (n INTEGER)") }
            let (before, after) = try db.read { c in
                let before = try c.queryOne("SELECT COUNT(*) FROM t")?.int(0)
                try db.write { try $0.run("INSERT INTO t VALUES (1)") }  // commits meanwhile
                let after = try c.queryOne("SELECT COUNT(*) FROM t")?.int(0)
                return (before, after)
            }
            #expect(before == 0 && after == 0)
            #expect(try count(db) == 1)
        }
    }

    @Test func readerPoolIsBoundedAndSharedByThreads() throws {
        try withDatabase(readerCount: 2) { db, _ in
            try db.write { c in
                try c.execute("CREATE TABLE t (n INTEGER)")
                try c.run("INSERT INTO t VALUES (7)")
            }
            let active = Atomic<Int>(0)
            let peak = Atomic<Int>(0)
            let failures = Atomic<Int>(0)
            DispatchQueue.concurrentPerform(iterations: 40) { _ in
                do {
                    let n = try db.read { c in
                        let now = active.add(1, ordering: .relaxed).newValue
                        peak.max(now, ordering: .relaxed)
                        defer { active.subtract(1, ordering: .relaxed) }
                        usleep(2_000)
                        return try c.queryOne("SELECT n FROM t")?.int(0)
                    }
                    if n != 7 { failures.add(1, ordering: .relaxed) }
                } catch {
                    failures.add(1, ordering: .relaxed)
                }
            }
            #expect(failures.load(ordering: .relaxed) == 0)
            #expect(peak.load(ordering: .relaxed) <= 2)
        }
    }
}
