internal import CSQLite
import Dispatch
#if canImport(Glibc)
import Glibc
#endif
import KittBase
import KittThreads
import Synchronization

/// `PRAGMA synchronous` for the writer, in WAL mode.
///
/// - `full`: every COMMIT fsyncs the WAL before it returns. A committed transaction survives
///   `kill -9` of the process and power loss.
/// - `normal`: the WAL is fsynced only at checkpoints. A committed transaction survives
///   `kill -9` (it is in the OS page cache), but the last transactions before a power loss
///   or kernel crash may be lost. The database is never corrupted either way.
public enum Synchronous: String, Sendable {
    case normal = "NORMAL"
    case full = "FULL"
}

/// When the WAL is copied back into the database file (a checkpoint).
///
/// SQLite's own automatic checkpoint runs inside the COMMIT that pushes the WAL past 1,000
/// pages (4 MB): under a steady write load that is every few batches, on the writer's
/// critical path, and pages rewritten batch after batch are copied again each time.
/// Instead a checkpoint (PASSIVE: never waits for readers) runs on its own connection and
/// thread (`BackgroundCheckpointer`) once the writer has been idle for
/// `idleDelayMilliseconds` after its last commit, and at once when the WAL holds `maxFrames`
/// frames not yet copied; the writer goes on committing meanwhile. Only a checkpoint the
/// writer runs between its transactions lets the WAL start over from its beginning, so the
/// writer runs one itself when the WAL reaches `restartFrames`. Checkpoints never affect
/// durability: every COMMIT has already synced the WAL (under `.full`); a checkpoint only
/// moves committed pages.
public struct CheckpointPolicy: Sendable {
    /// Start a background checkpoint after the commit that leaves this many uncopied frames
    /// in the WAL (a frame is one page, `newFilePageSize` for files kitt made).
    public var maxFrames: Int
    /// The writer checkpoints itself after the commit that makes the WAL this long, so that
    /// it starts over: bounds the WAL file and recovery time under a steady load.
    public var restartFrames: Int
    /// Checkpoint when no write has committed for this long.
    public var idleDelayMilliseconds: Int
    /// Within `maxFrames` of `restartFrames`, a background checkpoint starts at this many
    /// uncopied frames instead of `maxFrames` (at most `maxFrames`): the writer's own
    /// checkpoint at the restart bound then finds less left to copy, and every write waits
    /// while it runs. Nil: `maxFrames` throughout.
    public var nearRestartFrames: Int?

    public init(
        maxFrames: Int = 16_384, restartFrames: Int? = nil, idleDelayMilliseconds: Int = 250,
        nearRestartFrames: Int? = nil
    ) {
        precondition(maxFrames >= 1 && idleDelayMilliseconds >= 0)
        self.maxFrames = maxFrames
        let twice = maxFrames.multipliedReportingOverflow(by: 2)
        self.restartFrames = max(maxFrames, restartFrames ?? (twice.overflow ? Int.max : twice.partialValue))
        self.idleDelayMilliseconds = idleDelayMilliseconds
        self.nearRestartFrames = nearRestartFrames.map { min(max(1, $0), maxFrames) }
    }

    /// For a bulk loader that writes for a long time without a pause (`kitt import`).
    /// - The WAL starts over after 131,072 frames (1 GB at 8 KB pages) instead of 32,768.
    ///   Each start-over stalls the writer while it copies what the background checkpoints
    ///   have not yet (~16,000 frames, 250–800 ms measured): a 1,000,000-result import
    ///   started over 25 times (~10 s of its ~60) with the default, 6 times (~4 s) with this.
    ///   The price is a WAL file of up to 1 GB while the loader runs (the last connection to
    ///   close removes it).
    /// - Nearing that bound, background checkpoints start every 4,096 frames
    ///   (`nearRestartFrames`): 1M imports 20,012 / 20,487 / 20,399 results/s against 18,935 /
    ///   19,794 / 18,900 without. Not for the server: its 16-connection POST floods ran
    ///   3,539 / 3,570/s with it against 3,936 / 3,648 without (the extra checkpoints compete
    ///   with the requests for the two cores).
    public static let bulkLoad = CheckpointPolicy(restartFrames: 131_072, nearRestartFrames: 4_096)

    /// Frames not yet copied at which a background checkpoint starts, with the WAL
    /// `walFrames` long: `maxFrames`, or `nearRestartFrames` within `maxFrames` of
    /// `restartFrames`.
    public func backgroundBound(walFrames: Int) -> Int {
        guard let nearRestartFrames, walFrames >= restartFrames - maxFrames else { return maxFrames }
        return nearRestartFrames
    }
}

/// A SQLite database file: one writer connection and a pool of reader connections, in WAL
/// mode so readers never wait for the writer (each reads the last committed snapshot).
///
/// The only Sendable type of this module.
///
/// Threading. Connections are opened with `SQLITE_OPEN_NOMUTEX` (multi-thread mode). In
/// sqlite.org's words, in this mode "SQLite can be safely used by multiple threads provided
/// that no single database connection nor any object derived from database connection,
/// such as a prepared statement, is used in two or more threads at the same time". We
/// guarantee that ourselves, so SQLite's per-connection mutex would be pure overhead:
/// - the writer connection is only touched from blocks on `writerQueue` (serial);
/// - a reader connection is only touched by the one caller that took its index off the
///   free list, until it puts the index back.
///
/// Rules for callers: do not call `write`, `migrate` or `close` from inside a `write` or
/// `writeAsync` body (that would deadlock; it traps instead). Do not nest more `read`s than
/// `readerCount` on one thread. A `read` inside a `write` body sees the last committed
/// state, not the writer's uncommitted changes.
public final class Database: Sendable {
    private let writer: ConnectionBox
    private let readers: [ConnectionBox]
    /// Answers `PRAGMA data_version` (see `dataVersion`); its own connection, so the number
    /// moves on every commit by any other connection, the writer included.
    private let versionProbe: Mutex<ConnectionBox>
    /// Runs `readAsync` jobs: one worker per reader connection.
    private let readPool: WorkerPool
    private let writerQueue = DispatchQueue(label: "kitt.sqlite.writer")
    /// Completions of `writeAsync` run here, in commit order, never on the writer queue. A
    /// private queue: blocking jobs on the global queues were seen to stall for ~1 s.
    private let completionQueue = DispatchQueue(label: "kitt.sqlite.completions")
    /// Marks `completionQueue`, so `close` called from a completion does not wait for itself.
    private let completionQueueKey = DispatchSpecificKey<Bool>()

    /// Counts free readers; `read` waits on it, so at most `readers.count` reads run at once.
    private let readerSlots: DispatchSemaphore
    private let readerState: Mutex<ReaderState>
    private let writeState = Mutex(WriteState())
    private let batches = Atomic<Int>(0)
    private let redoneBatches = Atomic<Int>(0)
    private let checkpoints = Atomic<Int>(0)
    /// Durations of group-commit COMMITs (for metrics).
    public let commitLatency = CommitLatency()
    private let checkpointPolicy: CheckpointPolicy
    /// The database file (its WAL is this + "-wal").
    private let path: String
    /// Checkpoint bookkeeping; only touched on `writerQueue`.
    private let walState = WALState()
    private let checkpointer: BackgroundCheckpointer
    /// The database file, open for this Database's life only to fsync it (`syncToDisk`).
    /// Closing any descriptor of a file drops every POSIX lock the process holds on it,
    /// SQLite's too: after an open/fsync/close here, another process closing its connection
    /// found no lock, took itself for the file's last user and deleted the WAL this process
    /// was still writing to (its later commits then invisible to others, and lost in a crash).
    private let fileDescriptor: Int32
    /// errno of that open when it failed, reported by `syncToDisk` (by then errno is another).
    private let fileOpenErrno: Int32

    private final class WALState: @unchecked Sendable {
        /// Frames in the WAL at the last commit, and how many of them are in the database file.
        var frames = 0
        var checkpointed = 0
        /// Frames in the WAL when the last checkpoint forced by a bound started (so a
        /// checkpoint held back by a reader is not retried after every commit).
        var forcedAt = 0
        var commits = 0
        var idleCheckScheduled = false
        var backgroundRunning = false
        /// Counts the times the WAL started over: a background checkpoint's numbers are of
        /// the WAL it ran on.
        var generation = 0
        var uncheckpointed: Int { max(0, frames - checkpointed) }
    }

    private struct ReaderState {
        var free: [Int]
        var closed = false
    }

    private struct WriteState {
        var pending: [PendingWrite] = []
        var drainScheduled = false
        var closed = false
    }

    /// One `writeAsync` call, type-erased.
    private struct PendingWrite: Sendable {
        /// Runs the body (`guarded`: inside its own savepoint) and returns the delivery to make
        /// once the batch has committed (argument nil) or failed (argument: the batch's
        /// error). Unguarded, throws `RedoGuarded` when the body failed after changing rows
        /// (only a rollback of the whole transaction undoes them); else throws only if its
        /// savepoint could not be opened or rolled back: the transaction is then unusable.
        let run: @Sendable (Connection, _ guarded: Bool) throws -> Delivery
        /// Fails the write without running it.
        let fail: @Sendable (any Error) -> Void
    }

    private typealias Delivery = @Sendable ((any Error)?) -> Void

    /// A body run without a savepoint failed after it had changed rows.
    private struct RedoGuarded: Error {}

    /// The page size of a database file this creates (SQLite's default is 4,096). A write
    /// rewrites each page it changes, in full, to the WAL and later to the database; the
    /// result indexes take new keys all over their key range (time, model, engine, random
    /// ids), so a batch changes about one page per key per index. Larger pages hold more
    /// keys: a batch changes fewer pages, in fewer and larger writes. Importing 1,000,000
    /// results went from 69 s (4 KB) to 58 s (8 KB; 16 KB: 57 s), with the same memory (the
    /// page cache is sized in bytes). Durable POST floods on a 1,000,000-result store came
    /// out 3–11 % lower on average with 8 KB, inside their run-to-run spread
    /// (docs/scale-measurements.md).
    public static let newFilePageSize = 8_192

    /// Process-wide SQLite settings, applied once before the first connection opens.
    private static let configureSQLite: Void = { _ = kitt_sqlite_disable_memstatus() }()

    /// Opens (creating if needed) the database at `path`.
    public init(
        path: String, readerCount: Int = 4, synchronous: Synchronous = .full,
        checkpointPolicy: CheckpointPolicy = CheckpointPolicy()
    ) throws {
        precondition(readerCount >= 1, "a Database needs at least one reader connection")
        _ = Database.configureSQLite
        PrivateFiles.prepareDatabase(at: path)
        let writer = try Connection(
            path: path, flags: SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE | SQLITE_OPEN_NOMUTEX)
        try writer.execute("PRAGMA busy_timeout = 5000")
        // Only a new, empty file takes it (before its first table and before WAL mode): an
        // existing database keeps the page size it was made with.
        try writer.execute("PRAGMA page_size = \(Database.newFilePageSize)")
        let mode = try writer.queryOne("PRAGMA journal_mode = WAL")?.string(0)?.lowercased()
        guard mode == "wal" else {
            throw SQLiteError(
                code: SQLITE_CANTOPEN,
                message: "could not enable WAL on \(path) (journal_mode is \(mode ?? "unknown")); a file database is required")
        }
        try writer.execute("PRAGMA synchronous = \(synchronous.rawValue); PRAGMA foreign_keys = ON")
        // temp_store = MEMORY keeps the savepoint journal of each `writeAsync` body (the
        // original of every page it changes) in memory. Otherwise SQLite spills it to a temp
        // file past 64 KB, and every body's journal became pwrite()s: under load that file
        // took more bytes than the WAL. The writer's page cache: 16 MB (allocated as used)
        // instead of 2 MB, for the index pages every write visits; on the results bench 4, 16
        // and 64 MB measured the same, so this is headroom for larger stores, not a gain seen.
        try writer.execute("PRAGMA cache_size = -16384; PRAGMA temp_store = MEMORY")
        try writer.trackWALFrames()
        let checkpointer = try BackgroundCheckpointer(path: path)
        // WAL mode has created -wal/-shm by now; tighten any left from a looser older version
        // (chmod only: see `fileDescriptor`).
        PrivateFiles.tighten(database: path)

        // Readers open after the writer has switched the file to WAL. READONLY: a read
        // closure cannot write by mistake (and bypass the single-writer discipline).
        var readers: [ConnectionBox] = []
        for _ in 0..<readerCount {
            let reader = try Connection(path: path, flags: SQLITE_OPEN_READONLY | SQLITE_OPEN_NOMUTEX)
            try reader.execute("PRAGMA busy_timeout = 5000")
            readers.append(ConnectionBox(reader))
        }
        let probe = try Connection(path: path, flags: SQLITE_OPEN_READONLY | SQLITE_OPEN_NOMUTEX)
        try probe.execute("PRAGMA busy_timeout = 5000")
        self.versionProbe = Mutex(ConnectionBox(probe))
        self.readPool = WorkerPool(label: "kitt.sqlite.reader", count: readerCount)
        self.writer = ConnectionBox(writer)
        self.readers = readers
        self.readerSlots = DispatchSemaphore(value: readerCount)
        self.readerState = Mutex(ReaderState(free: Array(0..<readerCount)))
        self.checkpointPolicy = checkpointPolicy
        self.path = path
        self.checkpointer = checkpointer
        let fileDescriptor = open(path, O_RDONLY | O_CLOEXEC)
        self.fileDescriptor = fileDescriptor
        self.fileOpenErrno = fileDescriptor < 0 ? errno : 0
        completionQueue.setSpecific(key: completionQueueKey, value: true)
    }

    /// Number of `writeAsync` batches committed so far (each is one transaction).
    public var committedBatchCount: Int { batches.load(ordering: .relaxed) }

    /// Number of `writeAsync` batches run a second time, each body in its own savepoint,
    /// because a body failed after changing rows (see `runBodies`).
    public var redoneBatchCount: Int { redoneBatches.load(ordering: .relaxed) }

    /// Number of checkpoints the writer has run (see `CheckpointPolicy`).
    public var checkpointCount: Int { checkpoints.load(ordering: .relaxed) }

    /// A number that changes whenever any connection, in this process or another, commits
    /// a change to the database (SQLite's `PRAGMA data_version` on a connection that never
    /// writes). Equal values mean nothing was committed in between: what was computed from
    /// the database after reading the first is still current. Cheap (no file I/O).
    public var dataVersion: Int {
        get throws {
            try versionProbe.withLock { probe throws -> Int in
                guard probe.isOpen else { throw SQLiteError.databaseClosed }
                return try probe.connection.queryOne("PRAGMA data_version")?.int(0) ?? 0
            }
        }
    }

    // MARK: - Reading

    /// Store work must never run on an event-loop thread (it would stall every connection
    /// of that loop): checked in debug builds.
    private static func assertNotOnEventLoop(_ what: StaticString) {
        assert(!EventLoopThread.isCurrent, "\(what) called on an event-loop thread: use readAsync/writeAsync or a .deferred response")
    }

    /// `read` on one of the pool's reader workers; `completion` runs there with the value.
    /// Never blocks the caller: reads beyond the number of readers queue off the caller's thread.
    public func readAsync<T: Sendable>(
        _ body: @escaping @Sendable (Connection) throws -> T,
        completion: @escaping @Sendable (Result<T, any Error>) -> Void
    ) {
        readPool.submit { completion(Result { try self.read(body) }) }
    }

    /// Runs `body` on a reader connection inside a deferred transaction, so every query in
    /// `body` sees the same committed snapshot. Waits if all readers are busy.
    @discardableResult
    public func read<T>(_ body: (Connection) throws -> T) throws -> T {
        Self.assertNotOnEventLoop("Database.read")
        readerSlots.wait()
        defer { readerSlots.signal() }
        guard let index = readerState.withLock({ $0.closed ? nil : $0.free.popLast() }) else {
            throw SQLiteError.databaseClosed
        }
        defer { readerState.withLock { $0.free.append(index) } }

        let connection = readers[index].connection
        try connection.run("BEGIN DEFERRED")
        do {
            let value = try body(connection)
            try connection.run("COMMIT")
            return value
        } catch {
            if !connection.isAutocommit { _ = try? connection.run("ROLLBACK") }
            throw error
        }
    }

    // MARK: - Writing

    /// Runs `body` on the writer inside `BEGIN IMMEDIATE … COMMIT`; rolls back and rethrows
    /// if `body` throws. When it returns, the transaction is committed (durable as
    /// described by `Synchronous`).
    @discardableResult
    public func write<T>(_ body: (Connection) throws -> T) throws -> T {
        try write(checkingForeignKeys: true, body)
    }

    /// `write`; `checkingForeignKeys: false` runs this one transaction without SQLite's foreign-key
    /// checks and actions (no parent lookup per child row, no cascades): only for bulk
    /// loaders whose every child row references a parent they have just inserted in the
    /// same transaction. Changing the pragma makes SQLite re-prepare cached statements.
    /// `sortingOnDisk: true` lets this transaction's sorts, temporary tables and statement
    /// journals spill to temp files (the writer otherwise keeps them in memory, see `init`):
    /// for statements over the whole store, such as rebuilding the result summaries after a
    /// bulk copy, or schema migrations that rebuild or drop whole tables (their statement
    /// journals hold every page they change: dropping the result tables of 200,000 results
    /// took 180 MB of memory without it).
    @discardableResult
    public func write<T>(
        checkingForeignKeys: Bool, sortingOnDisk: Bool = false, _ body: (Connection) throws -> T
    ) throws -> T {
        dispatchPrecondition(condition: .notOnQueue(writerQueue))
        Self.assertNotOnEventLoop("Database.write")
        return try writerQueue.sync { () throws -> T in
            guard writer.isOpen else { throw SQLiteError.databaseClosed }
            let connection = writer.connection
            // Outside any transaction, where these pragmas take effect.
            if !checkingForeignKeys { try connection.execute("PRAGMA foreign_keys = OFF") }
            if sortingOnDisk { try connection.execute("PRAGMA temp_store = FILE") }
            defer {
                if !checkingForeignKeys { try? connection.execute("PRAGMA foreign_keys = ON") }
                if sortingOnDisk { try? connection.execute("PRAGMA temp_store = MEMORY") }
            }
            try connection.run("BEGIN IMMEDIATE")
            let value: T
            let flushed: [any CommitAccumulator]
            do {
                value = try body(connection)
                flushed = try connection.flushAccumulators()
                try commitLatency.measure { try connection.run("COMMIT") }
            } catch {
                connection.discardAccumulators()
                // Some errors (disk full, I/O) make SQLite roll back by itself.
                if !connection.isAutocommit { _ = try? connection.run("ROLLBACK") }
                throw error
            }
            for accumulator in flushed { accumulator.didCommit() }
            didCommit()
            return value
        }
    }

    /// Group commit. Enqueues `body`; the writer runs every pending `writeAsync` body in ONE
    /// transaction (a body that throws leaves none of its own changes and gets `.failure`;
    /// see `runBodies`), and COMMITs once: under `synchronous = FULL` that is one fsync for
    /// the whole batch instead of one per write.
    ///
    /// `body` may run twice (when another body of its batch fails after changing rows, the
    /// batch is rolled back and run again): it must do nothing but work on the connection.
    ///
    /// `completion` is called only after the COMMIT has returned, so `.success` means the
    /// write is as durable as `write` would have made it. If the COMMIT (or BEGIN) fails,
    /// every body of the batch gets `.failure`. Completions run on a private serial queue in
    /// enqueue order; keep them short.
    public func writeAsync<T: Sendable>(
        _ body: @escaping @Sendable (Connection) throws -> T,
        completion: @escaping @Sendable (Result<T, any Error>) -> Void
    ) {
        let item = PendingWrite(
            run: { connection, guarded in
                if guarded { try connection.run("SAVEPOINT kitt_group_write") }
                connection.beginAccumulatorScope()
                let changesBefore = connection.totalChanges
                let result: Result<T, any Error>
                do {
                    let value = try body(connection)
                    if guarded { try connection.run("RELEASE kitt_group_write") }
                    connection.endAccumulatorScope(keep: true)
                    result = .success(value)
                } catch {
                    connection.endAccumulatorScope(keep: false)
                    if guarded {
                        // ROLLBACK TO undoes the body's changes but keeps the savepoint open.
                        try connection.run("ROLLBACK TO kitt_group_write")
                        try connection.run("RELEASE kitt_group_write")
                    } else if connection.isAutocommit {
                        throw error  // SQLite rolled the whole transaction back (I/O error, disk full)
                    } else if connection.totalChanges != changesBefore {
                        throw RedoGuarded()
                    }
                    // Else it failed before changing anything (a statement that fails undoes
                    // its own partial changes): nothing to undo.
                    result = .failure(error)
                }
                return { batchError in completion(batchError.map { .failure($0) } ?? result) }
            },
            fail: { error in completion(.failure(error)) })

        let (accepted, scheduleDrain) = writeState.withLock { state -> (Bool, Bool) in
            if state.closed { return (false, false) }
            state.pending.append(item)
            defer { state.drainScheduled = true }
            return (true, !state.drainScheduled)
        }
        if !accepted {
            completionQueue.async { item.fail(SQLiteError.databaseClosed) }
        } else if scheduleDrain {
            writerQueue.async { self.drainPendingWrites() }
        }
    }

    /// Runs the bodies of a batch in order in the open transaction and returns their
    /// deliveries. Unguarded (the usual case), no body has a savepoint of its own: a body that
    /// fails before changing anything (most failures: an unknown agent, a refused request)
    /// needs none, and a savepoint per body was ~10 % of the writer's work per agent report
    /// (SQLite copies each page a body changes to its savepoint journal). A body that fails
    /// after changing rows throws `RedoGuarded`: the caller rolls back and runs the batch
    /// again guarded, each body in its own savepoint, so that its failure undoes only its own
    /// changes — which is why a `writeAsync` body may run twice.
    private func runBodies(_ batch: [PendingWrite], guarded: Bool, on connection: Connection) throws -> [Delivery] {
        var deliveries: [Delivery] = []
        deliveries.reserveCapacity(batch.count)
        for item in batch {
            deliveries.append(try item.run(connection, guarded))
        }
        return deliveries
    }

    /// Runs everything pending as one batch. Writes enqueued while it runs wait for the next
    /// drain, which is scheduled by the first of them.
    private func drainPendingWrites() {
        dispatchPrecondition(condition: .onQueue(writerQueue))
        let batch = writeState.withLock { state -> [PendingWrite] in
            state.drainScheduled = false
            defer { state.pending = [] }
            return state.pending
        }
        guard !batch.isEmpty else { return }

        var deliveries: [Delivery] = []
        var batchError: (any Error)?
        var flushed: [any CommitAccumulator] = []
        if writer.isOpen {
            let connection = writer.connection
            do {
                try connection.run("BEGIN IMMEDIATE")
                do {
                    deliveries = try runBodies(batch, guarded: false, on: connection)
                } catch is RedoGuarded {
                    // Undo every body's changes and run them all again, each in a savepoint.
                    connection.discardAccumulators()
                    try connection.run("ROLLBACK")
                    try connection.run("BEGIN IMMEDIATE")
                    redoneBatches.add(1, ordering: .relaxed)
                    deliveries = try runBodies(batch, guarded: true, on: connection)
                }
                flushed = try connection.flushAccumulators()
                try commitLatency.measure { try connection.run("COMMIT") }
            } catch {
                batchError = error
                connection.discardAccumulators()
                if !connection.isAutocommit { _ = try? connection.run("ROLLBACK") }
            }
        } else {
            batchError = SQLiteError.databaseClosed
        }
        if batchError != nil {
            deliveries = batch.map { item in { error in item.fail(error ?? SQLiteError.databaseClosed) } }
        }
        if batchError == nil {
            batches.add(1, ordering: .relaxed)
            for accumulator in flushed { accumulator.didCommit() }
        }

        // Deliver after COMMIT, off the writer queue, holding nothing.
        let outcome = batchError
        completionQueue.async { [deliveries] in
            for deliver in deliveries { deliver(outcome) }
        }
        if batchError == nil { didCommit() }
    }

    // MARK: - Checkpoints

    /// After every commit, on the writer queue: checkpoint if the WAL is at a bound, else
    /// make sure an idle check is scheduled.
    private func didCommit() {
        dispatchPrecondition(condition: .onQueue(writerQueue))
        guard writer.isOpen else { return }
        let state = walState
        let frames = writer.connection.walFrameCount
        // Fewer frames than before: the WAL restarted from its beginning after a complete
        // checkpoint, so none of these frames is checkpointed yet.
        if frames < state.frames {
            state.checkpointed = 0
            state.forcedAt = 0
            state.generation += 1
        }
        state.frames = frames
        state.commits += 1
        let pending = state.uncheckpointed
        let retry = frames >= state.forcedAt + checkpointPolicy.maxFrames / 8
        if frames >= checkpointPolicy.restartFrames, pending > 0, retry {
            state.forcedAt = frames
            checkpointer.waitUntilIdle()  // two checkpoints at once: the second would do nothing
            runCheckpoint()
        } else if pending >= checkpointPolicy.backgroundBound(walFrames: frames), retry, !state.backgroundRunning {
            state.forcedAt = frames
            startBackgroundCheckpoint()
        } else if pending > 0 {
            scheduleIdleCheck()
        }
    }

    private func scheduleIdleCheck() {
        let state = walState
        guard !state.idleCheckScheduled else { return }
        state.idleCheckScheduled = true
        let commits = state.commits
        writerQueue.asyncAfter(deadline: .now() + .milliseconds(checkpointPolicy.idleDelayMilliseconds)) {
            state.idleCheckScheduled = false
            guard self.writer.isOpen, state.uncheckpointed > 0 else { return }
            if state.commits == commits, self.writeState.withLock({ $0.pending.isEmpty }) {
                self.startBackgroundCheckpoint()
            }
            // Not idle, still running, or a reader held part of the WAL back: look again later.
            self.scheduleIdleCheck()
        }
    }

    /// Starts a checkpoint on the checkpointer's thread (unless one is running); its result
    /// comes back to the writer queue.
    private func startBackgroundCheckpoint() {
        dispatchPrecondition(condition: .onQueue(writerQueue))
        let state = walState
        guard !state.backgroundRunning else { return }
        state.backgroundRunning = true
        let generation = state.generation
        checkpointer.start { [self] result in
            writerQueue.async { [self] in
                state.backgroundRunning = false
                guard let result else { return }
                checkpoints.add(1, ordering: .relaxed)
                // Numbers of a WAL that has started over since count for nothing now.
                guard state.generation == generation, result.log <= state.frames else { return }
                state.checkpointed = max(state.checkpointed, result.checkpointed)
            }
        }
    }

    /// A checkpoint on the writer, between its transactions: when it copies every frame,
    /// the next transaction starts the WAL over.
    private func runCheckpoint() {
        dispatchPrecondition(condition: .onQueue(writerQueue))
        // A failed checkpoint leaves the frames in the WAL, where they are just as durable;
        // the next one copies them.
        guard let result = try? writer.connection.checkpoint() else { return }
        checkpoints.add(1, ordering: .relaxed)
        walState.frames = result.log
        walState.checkpointed = result.checkpointed
    }

    /// Runs a checkpoint now (on the writer queue, after the writes already queued and any
    /// background checkpoint) and returns how many WAL frames are still not copied into the
    /// database file (0 unless a reader holds an older snapshot). For tests and diagnostics.
    @discardableResult
    public func checkpoint() throws -> Int {
        dispatchPrecondition(condition: .notOnQueue(writerQueue))
        return try writerQueue.sync { () throws -> Int in
            guard writer.isOpen else { throw SQLiteError.databaseClosed }
            checkpointer.waitUntilIdle()
            runCheckpoint()
            return walState.uncheckpointed
        }
    }

    /// Makes every transaction committed so far durable, whatever `synchronous` is: fsyncs
    /// the WAL, then the database file. For a bulk loader that commits under `.normal` (no
    /// fsync per transaction: SQLite then syncs only at checkpoints) and promises its
    /// results only at its end (`kitt import`). Runs after the writes already queued.
    public func syncToDisk() throws {
        dispatchPrecondition(condition: .notOnQueue(writerQueue))
        try writerQueue.sync { () throws in
            guard writer.isOpen else { throw SQLiteError.databaseClosed }
            // The WAL first: it holds what the database file may not have yet. A missing WAL
            // (nothing written, or removed at a close) has nothing to sync.
            do throws(SystemError) {
                try Files.syncFile(path + "-wal")
            } catch where error.errno == ENOENT {}
            try syncDatabaseFile()
        }
    }

    private func syncDatabaseFile() throws(SystemError) {
        guard fileDescriptor >= 0 else { throw SystemError("open(\(path))", errno: fileOpenErrno) }
        try Files.syncFile(descriptor: fileDescriptor, path: path)
    }

    /// Frames written to the WAL that are not yet in the database file, as of the last
    /// commit or checkpoint.
    public var uncheckpointedFrameCount: Int {
        dispatchPrecondition(condition: .notOnQueue(writerQueue))
        return writerQueue.sync { walState.uncheckpointed }
    }

    // MARK: - Closing

    /// Runs every pending `writeAsync` (their completions still fire), then closes all
    /// connections. Later reads and writes throw; later `writeAsync` calls fail. Idempotent.
    /// Must not be called from inside a `read` or `write` body.
    public func close() {
        dispatchPrecondition(condition: .notOnQueue(writerQueue))
        let alreadyClosed = writeState.withLock { state -> Bool in
            defer { state.closed = true }
            return state.closed
        }
        guard !alreadyClosed else { return }
        writerQueue.sync { drainPendingWrites() }
        // Take every reader slot so no read is in flight, close, then give the slots back so
        // waiting readers wake up and see `closed`.
        for _ in readers { readerSlots.wait() }
        readerState.withLock { $0.closed = true }
        for reader in readers { reader.close() }
        versionProbe.withLock { $0.close() }
        for _ in readers { readerSlots.signal() }
        // The writer closes last: the last connection to close checkpoints the WAL into the
        // database and removes the -wal file, which a read-only reader cannot do.
        checkpointer.close()
        writerQueue.sync { writer.close() }
        if fileDescriptor >= 0 { Glibc.close(fileDescriptor) }
        // Let completions already scheduled run before close returns (unless close was
        // called from one of them: that would wait for itself).
        if DispatchQueue.getSpecific(key: completionQueueKey) != true {
            completionQueue.sync {}
        }
    }
}

/// Holds a non-Sendable `Connection` inside the Sendable `Database`.
///
/// `@unchecked Sendable` because the compiler cannot see the confinement that makes it
/// safe: the writer box is only touched from blocks on `Database.writerQueue` (checked by
/// `dispatchPrecondition` where it matters), and a reader box only by the caller holding
/// its index from the free list. The connection itself never escapes: it is passed only
/// into non-escaping closures or as a parameter of a `writeAsync` body run on the queue.
private final class ConnectionBox: @unchecked Sendable {
    let connection: Connection
    private(set) var isOpen = true

    init(_ connection: Connection) { self.connection = connection }

    func close() {
        connection.close()
        isOpen = false
    }
}
