import Dispatch
#if canImport(Glibc)
import Glibc
#endif
import Synchronization

/// Makes committed transactions durable off the writer's thread: a pipelined group commit.
///
/// The writer runs with SQLite's `synchronous = NORMAL` in WAL mode, so a COMMIT writes its
/// frames to the WAL file without waiting for the disk. Durability comes from here: a
/// commit's completions are held until an `fdatasync` of the WAL that started after that
/// COMMIT returned has finished, and meanwhile the writer runs the next batch. One sync
/// covers every commit before it. On this project's lab VM a sync takes ~4 ms: the writer
/// used to stand still for it after every batch.
///
/// Why this is as safe as `synchronous = FULL`: SQLite writes a transaction's frames, each
/// with a checksum chained from the one before, before COMMIT returns; a sync makes every
/// frame written so far survive power loss, and after a crash SQLite replays the WAL up to
/// the last commit whose frames are all intact. A commit that was not yet synced can be
/// lost with the power, but nobody was told it succeeded. (Readers in this process may see
/// it for those few milliseconds.) Checkpoints sync the WAL before copying it in either
/// mode, so nothing the WAL held is lost when it starts over.
///
/// Completions are handed on in commit order, each with the error of its own batch or of
/// the sync.
final class WALSyncer: Sendable {
    /// Called with the WAL's descriptor; returns 0 or -1 with errno set (`fdatasync`).
    typealias SyncFunction = @Sendable (Int32) -> Int32

    private struct Waiter {
        /// When the COMMIT started (for `CommitLatency`).
        let committedAt: UInt64
        /// The batch's own error: it is delivered as is, without a sync.
        let batchError: (any Error)?
        /// Delivered on the syncer's own queue, not the delivery queue (a caller that waits
        /// on the delivery queue itself).
        let immediate: Bool
        let deliver: @Sendable ((any Error)?) -> Void
    }

    private struct State {
        var waiting: [Waiter] = []
        var draining = false
        /// The open WAL file, and its identity (to notice a WAL that was replaced).
        var descriptor: Int32 = -1
        var device: UInt = 0
        var inode: UInt = 0
    }

    private let walPath: String
    /// Whether commits wait for the disk at all (`Synchronous.full`).
    private let syncs: Bool
    private let sync: SyncFunction
    private let latency: CommitLatency
    private let queue = DispatchQueue(label: "kitt.sqlite.sync")
    /// Where deliveries run (the database's completion queue), in order.
    private let deliveryQueue: DispatchQueue
    private let state = Mutex(State())
    private let syncCount = Atomic<Int>(0)

    init(
        databasePath: String, synchronous: Synchronous, latency: CommitLatency, deliveryQueue: DispatchQueue,
        sync: @escaping SyncFunction = { fdatasync($0) }
    ) {
        walPath = databasePath + "-wal"
        syncs = synchronous == .full
        self.sync = sync
        self.latency = latency
        self.deliveryQueue = deliveryQueue
    }

    /// Syncs run so far.
    var syncsRun: Int { syncCount.load(ordering: .relaxed) }

    /// Hands `deliver` on (on the delivery queue, or at once on the syncer's queue when
    /// `immediate`) once the commit that started at `committedAt` is durable, or at its turn
    /// with `batchError` when the batch failed. Called on the writer's queue right after the
    /// COMMIT, so deliveries keep the commits' order.
    func afterCommit(
        startedAt committedAt: UInt64, batchError: (any Error)?, immediate: Bool = false,
        _ deliver: @escaping @Sendable ((any Error)?) -> Void
    ) {
        let start = state.withLock { state -> Bool in
            state.waiting.append(
                Waiter(committedAt: committedAt, batchError: batchError, immediate: immediate, deliver: deliver))
            defer { state.draining = true }
            return !state.draining
        }
        if start { queue.async { self.drain() } }
    }

    /// Returns once every delivery asked for so far has been handed on.
    func waitUntilIdle() {
        while state.withLock({ $0.draining }) { queue.sync {} }
    }

    /// Closes the WAL descriptor (after `waitUntilIdle`).
    func close() {
        queue.sync {
            state.withLock { state in
                if state.descriptor >= 0 { Glibc.close(state.descriptor) }
                state.descriptor = -1
            }
        }
    }

    private func drain() {
        while true {
            let batch = state.withLock { state -> [Waiter] in
                defer { state.waiting = [] }
                if state.waiting.isEmpty { state.draining = false }
                return state.waiting
            }
            if batch.isEmpty { return }
            // Every commit in `batch` returned before this sync starts.
            let syncError = batch.contains { $0.batchError == nil } ? syncWAL() : nil
            for waiter in batch where waiter.batchError == nil {
                latency.record(seconds: Self.seconds(since: waiter.committedAt))
            }
            for waiter in batch where waiter.immediate { waiter.deliver(waiter.batchError ?? syncError) }
            deliveryQueue.async {
                for waiter in batch where !waiter.immediate { waiter.deliver(waiter.batchError ?? syncError) }
            }
        }
    }

    /// fdatasync of the WAL file; nil when done (or not asked for).
    private func syncWAL() -> (any Error)? {
        guard syncs else { return nil }
        let descriptor = state.withLock { state -> Int32 in
            // The writer keeps the WAL open, so SQLite never deletes or replaces it while
            // this database is open; checked anyway, as a sync of a stale file would be a
            // silent loss.
            var current = stat()
            guard lstat(walPath, &current) == 0 else { return state.descriptor }
            if state.descriptor >= 0, UInt(current.st_dev) == state.device, UInt(current.st_ino) == state.inode {
                return state.descriptor
            }
            if state.descriptor >= 0 { Glibc.close(state.descriptor) }
            state.descriptor = open(walPath, O_RDONLY | O_CLOEXEC)
            var opened = stat()
            if state.descriptor >= 0, fstat(state.descriptor, &opened) == 0 {
                state.device = UInt(opened.st_dev)
                state.inode = UInt(opened.st_ino)
            }
            return state.descriptor
        }
        syncCount.add(1, ordering: .relaxed)
        guard descriptor >= 0 else { return DurabilityError(path: walPath, code: errno) }
        var result: Int32
        repeat { result = sync(descriptor) } while result != 0 && errno == EINTR
        return result == 0 ? nil : DurabilityError(path: walPath, code: errno)
    }

    private static func seconds(since start: UInt64) -> Double {
        Double(DispatchTime.now().uptimeNanoseconds &- start) / 1e9
    }
}

/// The WAL could not be synced to disk: the commit is in the file but may not survive a
/// power loss, so the write is not reported as done.
public struct DurabilityError: Error, CustomStringConvertible {
    public let path: String
    public let code: Int32
    public var description: String { "could not sync \(path) to disk: \(String(cString: strerror(code)))" }
}
