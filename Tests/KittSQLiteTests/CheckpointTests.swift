import Dispatch
#if canImport(Glibc)
import Glibc
#endif
import KittSQLite
import Testing

/// kitt's own checkpoint policy (`CheckpointPolicy`): SQLite's automatic checkpoint is off,
/// checkpoints run in the background when the writer is idle or the WAL reaches its bound,
/// the writer checkpoints itself at the bound that lets the WAL start over, and no committed
/// row is ever lost or changed by it.
@Suite(.serialized) struct CheckpointTests {
    /// A policy that never checkpoints by itself (for the tests that drive it by hand).
    static let manual = CheckpointPolicy(maxFrames: 1 << 30, idleDelayMilliseconds: 3_600_000)

    static func payload(_ n: Int) -> SQLiteValue {
        .text(String(repeating: String(n % 10), count: 2_000) + "#\(n)")
    }

    static func insertRows(_ db: Database, _ range: Range<Int>) throws {
        for n in range {
            try db.write { try $0.run("INSERT INTO t (n, body) VALUES (?, ?)", [SQLiteValue(n), payload(n)]) }
        }
    }

    static func checkRows(_ db: Database, _ expected: Range<Int>) throws {
        let rows = try db.read { try $0.query("SELECT n, body FROM t ORDER BY n") }
        #expect(rows.map { $0.int(0) } == expected.map { $0 })
        #expect(rows.allSatisfy { row in row.int(0).map { SQLiteValue.text(row.string(1) ?? "") == payload($0) } ?? false })
    }

    @Test func walGrowsPastSQLiteAutoCheckpointUntilTheWriterCheckpoints() throws {
        let dir = try TempDirectory()
        let path = dir.path()
        do {
            let db = try Database(path: path, checkpointPolicy: Self.manual)
            defer { db.close() }
            try db.write { try $0.execute("CREATE TABLE t (n INTEGER PRIMARY KEY, body TEXT NOT NULL)") }
            try Self.insertRows(db, 0..<1_200)
            // SQLite alone would have checkpointed at 1,000 frames.
            #expect(db.checkpointCount == 0)
            #expect(db.uncheckpointedFrameCount > 1_000)
            #expect(try db.checkpoint() == 0)
            #expect(db.uncheckpointedFrameCount == 0)
            #expect(db.checkpointCount == 1)
            try Self.insertRows(db, 1_200..<1_300)  // the WAL restarts from its beginning
            #expect(db.uncheckpointedFrameCount > 0)
            #expect(db.uncheckpointedFrameCount < 1_000)
            try Self.checkRows(db, 0..<1_300)
        }
        let reopened = try Database(path: path)
        defer { reopened.close() }
        try Self.checkRows(reopened, 0..<1_300)
    }

    /// Bytes of the database's WAL file (0 when there is none).
    static func walSize(_ path: String) -> Int {
        var info = stat()
        return stat(path + "-wal", &info) == 0 ? Int(info.st_size) : 0
    }

    /// Waits (bounded) for `condition`; no assertion on how long it took.
    static func eventually(_ condition: () -> Bool) -> Bool {
        for _ in 0..<1_000 {
            if condition() { return true }
            usleep(10_000)
        }
        return condition()
    }

    @Test func backgroundCheckpointsCopyTheWALWhileTheWriterGoesOn() throws {
        let dir = try TempDirectory()
        let path = dir.path()
        let bound = 64
        do {
            // Never idle long enough, and the writer never checkpoints itself: only the
            // background checkpointer copies frames, so the WAL never starts over.
            let db = try Database(
                path: path,
                checkpointPolicy: CheckpointPolicy(maxFrames: bound, restartFrames: 1 << 30, idleDelayMilliseconds: 3_600_000))
            defer { db.close() }
            try db.write { try $0.execute("CREATE TABLE t (n INTEGER PRIMARY KEY, body TEXT NOT NULL)") }
            try Self.insertRows(db, 0..<600)
            #expect(Self.eventually { db.uncheckpointedFrameCount < 2 * bound })
            #expect(db.checkpointCount >= 1)
            // A PASSIVE checkpoint never truncates the WAL: the file keeps at least the
            // frames it had when the first one started. (Not "every frame is still there":
            // when a checkpoint has copied every frame, SQLite itself starts the WAL over at
            // the next write, and on a fast machine the checkpointer does catch up.)
            #expect(Self.walSize(path) >= 32 + bound * (Database.newFilePageSize + 24))
            try Self.checkRows(db, 0..<600)
        }
        let reopened = try Database(path: path)
        defer { reopened.close() }
        try Self.checkRows(reopened, 0..<600)
    }

    @Test func theWALStartsOverAtItsBoundUnderLoad() throws {
        let dir = try TempDirectory()
        let path = dir.path()
        let bound = 64
        let restart = 256
        do {
            // Never idle long enough: only the bounds checkpoint.
            let db = try Database(
                path: path,
                checkpointPolicy: CheckpointPolicy(maxFrames: bound, restartFrames: restart, idleDelayMilliseconds: 3_600_000))
            defer { db.close() }
            try db.write { try $0.execute("CREATE TABLE t (n INTEGER PRIMARY KEY, body TEXT NOT NULL)") }
            var most = 0
            for n in 0..<1_500 {
                try Self.insertRows(db, n..<(n + 1))
                most = max(most, db.uncheckpointedFrameCount)
            }
            #expect(db.checkpointCount >= 1_500 / restart)
            #expect(most <= restart + 8)  // the writer checkpointed right after the commit that reached it
            // The file is reused from its beginning: it never holds much more than the bound
            // (1,500 rows of 2 KB are about 1,000 frames).
            #expect(Self.walSize(path) <= (restart + 8) * (Database.newFilePageSize + 24) + 32)
            try Self.checkRows(db, 0..<1_500)
        }
        let reopened = try Database(path: path)
        defer { reopened.close() }
        try Self.checkRows(reopened, 0..<1_500)
    }

    /// Nearing the restart bound, a policy with `nearRestartFrames` starts background
    /// checkpoints sooner, so the writer's own checkpoint at the bound has less to copy.
    @Test func backgroundCheckpointsStartSoonerNearTheRestartBound() {
        let policy = CheckpointPolicy(maxFrames: 64, restartFrames: 1_024, nearRestartFrames: 16)
        #expect(policy.backgroundBound(walFrames: 0) == 64)
        #expect(policy.backgroundBound(walFrames: 1_024 - 64 - 1) == 64)
        #expect(policy.backgroundBound(walFrames: 1_024 - 64) == 16)
        #expect(policy.backgroundBound(walFrames: 5_000) == 16)
        // Without it (the server's default): `maxFrames` throughout.
        let plain = CheckpointPolicy(maxFrames: 64, restartFrames: 1_024)
        #expect(plain.backgroundBound(walFrames: 0) == 64 && plain.backgroundBound(walFrames: 5_000) == 64)
        // Kept within 1...maxFrames.
        #expect(CheckpointPolicy(maxFrames: 64, nearRestartFrames: 0).backgroundBound(walFrames: 1 << 20) == 1)
        #expect(CheckpointPolicy(maxFrames: 64, nearRestartFrames: 1_000).backgroundBound(walFrames: 1 << 20) == 64)
        #expect(CheckpointPolicy.bulkLoad.backgroundBound(walFrames: 131_072 - 16_384) == 4_096)
    }

    /// The same rule, seen from a writer under load: over the same 1,500 commits, the policy
    /// with `nearRestartFrames` runs more checkpoints, and every row is kept.
    @Test func aWriterNearTheRestartBoundCheckpointsMoreOften() throws {
        func checkpoints(nearRestartFrames: Int?) throws -> Int {
            let dir = try TempDirectory()
            let db = try Database(
                path: dir.path(),
                checkpointPolicy: CheckpointPolicy(
                    maxFrames: 64, restartFrames: 256, idleDelayMilliseconds: 3_600_000,
                    nearRestartFrames: nearRestartFrames))
            defer { db.close() }
            try db.write { try $0.execute("CREATE TABLE t (n INTEGER PRIMARY KEY, body TEXT NOT NULL)") }
            try Self.insertRows(db, 0..<1_500)
            try Self.checkRows(db, 0..<1_500)
            return db.checkpointCount
        }
        let plain = try checkpoints(nearRestartFrames: nil)
        let early = try checkpoints(nearRestartFrames: 8)
        // ~1,500 frames: ~6 start-overs. Background checkpoints start every 64 uncopied frames
        // without the rule, every 8 in the last 64 frames before each start-over with it (one
        // at a time, so fewer when one is slow): 34 against 89 when this was written.
        #expect(early >= plain + 10, "checkpoints: \(early) with nearRestartFrames 8, \(plain) without")
    }

    @Test func anIdleWriterCheckpoints() throws {
        let dir = try TempDirectory()
        let db = try Database(path: dir.path(), checkpointPolicy: CheckpointPolicy(idleDelayMilliseconds: 0))
        defer { db.close() }
        try db.write { try $0.execute("CREATE TABLE t (n INTEGER PRIMARY KEY, body TEXT NOT NULL)") }
        try Self.insertRows(db, 0..<10)
        #expect(Self.eventually { db.uncheckpointedFrameCount == 0 })
        #expect(db.checkpointCount >= 1)
        try Self.checkRows(db, 0..<10)
    }

    @Test func aCheckpointNeverWaitsForAReaderNorCopiesWhatItStillReads() throws {
        try withDatabase { db, _ in
            try db.write { try $0.execute("CREATE TABLE t (n INTEGER PRIMARY KEY, body TEXT NOT NULL)") }
            try Self.insertRows(db, 0..<10)
            let (seen, left) = try db.read { c -> (Int, Int) in
                let seen = try c.queryOne("SELECT COUNT(*) FROM t")?.int(0) ?? -1  // snapshot taken
                try Self.insertRows(db, 10..<20)  // committed after the reader's snapshot
                return (seen, try db.checkpoint())
            }
            #expect(seen == 10)
            #expect(left > 0)  // the frames after the reader's snapshot stay in the WAL
            #expect(try db.checkpoint() == 0)  // reader gone: everything is copied
            try Self.checkRows(db, 0..<20)
        }
    }

    /// What a crash (kill -9) leaves: the database file and the WAL as they are on disk.
    /// Every committed row must be there, whether or not it was checkpointed.
    @Test func committedRowsSurviveACrashBeforeAndAfterCheckpoints() throws {
        let dir = try TempDirectory()
        let db = try Database(path: dir.path(), checkpointPolicy: Self.manual)
        defer { db.close() }
        try db.write { try $0.execute("CREATE TABLE t (n INTEGER PRIMARY KEY, body TEXT NOT NULL)") }
        try Self.insertRows(db, 0..<300)
        #expect(try db.checkpoint() == 0)
        try Self.insertRows(db, 300..<400)  // only in the WAL
        #expect(db.uncheckpointedFrameCount > 0)

        for name in ["test.sqlite", "test.sqlite-wal"] {
            #expect(copyFile(dir.path(name), dir.path("crash-" + name)))
        }
        let copy = try Database(path: dir.path("crash-test.sqlite"))
        defer { copy.close() }
        try Self.checkRows(copy, 0..<400)
    }

    private func copyFile(_ from: String, _ to: String) -> Bool {
        guard let input = fopen(from, "rb"), let output = fopen(to, "wb") else { return false }
        defer {
            fclose(input)
            fclose(output)
        }
        var buffer = [UInt8](repeating: 0, count: 1 << 16)
        while true {
            let n = fread(&buffer, 1, buffer.count, input)
            if n == 0 { return ferror(input) == 0 }
            guard fwrite(buffer, 1, n, output) == n else { return false }
        }
    }
}
