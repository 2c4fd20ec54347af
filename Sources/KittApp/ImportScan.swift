#if canImport(Glibc)
import Glibc
#endif
import Dispatch
import KittStore
import Synchronization

/// Walks a directory tree and reads and parses its `metrics.json` files on several reader
/// threads at once, for `ResultImporter.run`: with the files on disk rather than in the page
/// cache, one reader waits on one read at a time, so many must be in flight; parsing then
/// also uses every core.
///
/// The unit of work is a directory (KITT keeps each run in its own directory, so a directory
/// holds at most one `metrics.json`). A reader takes a directory from a shared stack, streams
/// its entries (never listing them: a directory may hold a million runs), reads and parses its
/// `metrics.json`, and offers each subdirectory to the stack for an idle reader. The stack
/// holds at most `queuedDirectories` paths; when it is full, the reader scans that subdirectory
/// itself, right away (depth first, its parent's handle still open). So memory stays bounded
/// whatever the tree looks like — at most `queuedDirectories` paths, each reader's recursion
/// (≤ 64 levels, one open directory each), the batch being filled, one full batch per reader
/// waiting for the writer, and `reportSlots` invalid-file reports — and a flat directory of a
/// million runs is shared out as it is read.
///
/// Valid documents go into one shared batch, handed to the `BatchWriter` when full (its two
/// slots make readers wait when the store is slower). Invalid files are queued for the
/// calling thread, which reports them (`take`) so the caller's callbacks stay on its thread.
/// Readers stop taking work once the writer has failed.
final class ImportScan: Sendable {
    /// Invalid-file reports that may wait for the calling thread.
    static let reportSlots = 256

    private let directories: DirectoryStack
    private let readers: Int
    private let batchSize: Int
    private let writer: BatchWriter
    private let batch = Mutex<[ResultDocument]>([])
    private let news = Mutex(News())
    /// Signalled for every report and when the scan ends: the calling thread's wake-up.
    private let newsArrived = DispatchSemaphore(value: 0)
    /// Made with 0 and signalled: a semaphore made with a count traps if it goes away lower.
    private let freeReportSlots = DispatchSemaphore(value: 0)
    private let readersRunning: Atomic<Int>
    private let visited = Atomic<Int>(0)

    struct News {
        var invalid: [(path: String, reason: String)] = []
        var finished = false
    }

    init(root: String, readers: Int, queuedDirectories: Int, batchSize: Int, writer: BatchWriter) {
        self.readers = max(1, readers)
        self.batchSize = max(1, batchSize)
        self.writer = writer
        directories = DirectoryStack(root: root, capacity: max(1, queuedDirectories), readers: self.readers)
        readersRunning = Atomic(self.readers)
        for _ in 0..<Self.reportSlots { freeReportSlots.signal() }
    }

    /// Starts the readers (each on its own serial queue: they mostly wait on the disk).
    func start() {
        for reader in 0..<readers {
            DispatchQueue(label: "kitt.import.read.\(reader)").async { [self] in
                while let next = directories.next() {
                    scan(next.path, depth: next.depth)
                    directories.finished()
                }
                if readersRunning.subtract(1, ordering: .acquiringAndReleasing).newValue == 0 {
                    news.withLock { $0.finished = true }
                    newsArrived.signal()
                }
            }
        }
    }

    /// The `metrics.json` files read so far (valid or not).
    var filesVisited: Int { visited.load(ordering: .relaxed) }

    /// Waits until there is something to report, the scan has ended, or `seconds` have passed.
    func wait(seconds: Double) { _ = newsArrived.wait(timeout: .now() + seconds) }

    /// The invalid files not yet taken, and whether the scan has ended (then nothing more comes).
    func take() -> News {
        let taken = news.withLock { news in
            defer { news.invalid.removeAll() }
            return news
        }
        for _ in taken.invalid { freeReportSlots.signal() }
        return taken
    }

    /// Hands the last, partly filled batch to the writer (after the scan has ended).
    func flush() {
        let rest = batch.withLock { batch in
            defer { batch = [] }
            return batch
        }
        if !rest.isEmpty { writer.submit(rest) }
    }

    private func scan(_ directory: String, depth: Int) {
        guard depth < 64, !writer.failed else { return }
        _ = ResultImporter.forEachEntry(of: directory) { entry in
            switch entry {
            case .directory(let child):
                if depth + 1 < 64, !directories.offer(child, depth: depth + 1) { scan(child, depth: depth + 1) }
            case .metricsFile(let path):
                read(path)
            }
            return !writer.failed
        }
    }

    private func read(_ path: String) {
        switch ResultImporter.parse(path) {
        case .document(let document):
            let full: [ResultDocument]? = batch.withLock { batch in
                batch.append(document)
                guard batch.count >= batchSize else { return nil }
                defer { batch = [] }
                return batch
            }
            if let full { writer.submit(full) }
        case .invalid(let reason):
            freeReportSlots.wait()
            news.withLock { $0.invalid.append((path, reason)) }
            newsArrived.signal()
        }
        visited.add(1, ordering: .relaxed)
    }
}

/// The directories waiting for a reader: a stack of at most `capacity` paths (depth first
/// keeps a run's neighbours together on disk). The scan is over when the stack is empty and no
/// reader is scanning (only a scanning reader adds directories).
private final class DirectoryStack: Sendable {
    private struct State {
        var waiting: [(path: String, depth: Int)] = []
        var scanning = 0
        var over = false
    }

    private let capacity: Int
    private let readers: Int
    private let state: Mutex<State>
    /// One signal per directory added, and one per reader when the scan is over, so a reader
    /// that wakes to an empty stack knows the scan is over.
    private let available = DispatchSemaphore(value: 0)

    init(root: String, capacity: Int, readers: Int) {
        self.capacity = capacity
        self.readers = readers
        state = Mutex(State(waiting: [(root, 0)]))
        available.signal()
    }

    /// Leaves `path` for an idle reader; false when the stack is full (the caller scans it).
    func offer(_ path: String, depth: Int) -> Bool {
        let added = state.withLock { state in
            guard state.waiting.count < capacity else { return false }
            state.waiting.append((path, depth))
            return true
        }
        if added { available.signal() }
        return added
    }

    /// The next directory to scan, once there is one; nil when the scan is over.
    func next() -> (path: String, depth: Int)? {
        available.wait()
        return state.withLock { state in
            guard let next = state.waiting.popLast() else { return nil }
            state.scanning += 1
            return next
        }
    }

    /// The reader is done with a directory `next` gave it.
    func finished() {
        let over = state.withLock { state in
            state.scanning -= 1
            guard state.scanning == 0, state.waiting.isEmpty, !state.over else { return false }
            state.over = true
            return true
        }
        if over { for _ in 0..<readers { available.signal() } }
    }
}
