#if canImport(Glibc)
import Glibc
#endif
import Dispatch
import KittStore
import Synchronization

/// What the import finds in one directory: its `metrics.json` (read and parsed) and, when
/// there are only a few, its subdirectories in name order.
struct DirectoryScan: Sendable {
    /// Subdirectories carried in a scan; a directory with more is listed again by the walk,
    /// in sorted runs (`ResultImporter.sortedSubdirectories`), so a scan stays small.
    static let carriedSubdirectories = 64

    let path: String
    var file: (path: String, parsed: ResultImporter.Parsed)?
    /// Nil when there are more than `carriedSubdirectories`.
    var subdirectories: [String]? = []

    /// Reads `directory` (nothing when it cannot be opened, as a walk would skip it).
    init(_ directory: String) {
        path = directory
        var names: [String] = []
        var more = false
        ResultImporter.forEachEntry(of: directory) { kind, name in
            switch kind {
            case .metricsFile:
                let path = ResultImporter.path(directory, name)
                file = (path, ResultImporter.parse(path))
            case .directory where names.count < Self.carriedSubdirectories:
                names.append(name)
            case .directory:
                more = true
            }
            return true
        }
        subdirectories = more ? nil : names.sorted()
    }
}

/// Threads that scan directories (`DirectoryScan`: list, read and parse its `metrics.json`)
/// ahead of the walk in `ResultImporter.run`, which takes the scans back in its own order.
/// With the files on disk rather than in the page cache, one thread waits on one read at a
/// time; here many directory and file reads are in flight, and parsing uses every core.
///
/// The walk asks for at most `lookahead` scans per level of its recursion, so the queue and
/// the finished scans waiting for the walk stay bounded (each scan holds one document and at
/// most `DirectoryScan.carriedSubdirectories` names). Each reader runs on its own serial
/// queue (its own thread: they mostly wait on the disk).
///
/// How many of them scan at once follows `ActiveReaders`: all of them while scans read from
/// the disk, one per core while the files come from the page cache (then more readers only
/// take the cores from the writer: a 1M import ran 4–25 % faster with 2 readers than with 8
/// on two cores, and 15–40 % slower from a cold cache).
final class DirectoryReaders: Sendable {
    /// Where a scan lands; the walk waits on it.
    final class Slot: Sendable {
        private let ready = DispatchSemaphore(value: 0)
        private let scan = Mutex<DirectoryScan?>(nil)

        fileprivate func fill(_ result: DirectoryScan) {
            scan.withLock { $0 = result }
            ready.signal()
        }

        /// The scan, once a reader has made it.
        func wait() -> DirectoryScan? {
            ready.wait()
            return scan.withLock { $0 }
        }
    }

    private struct Queue {
        var tasks: [(directory: String, slot: Slot)] = []
        var head = 0
    }

    private let queue = Mutex(Queue())
    /// One signal per task, and one per reader at `close`: a reader that wakes to an empty
    /// queue stops.
    private let available = DispatchSemaphore(value: 0)
    private let running = DispatchGroup()
    private let readers: Int
    private let active: Mutex<ActiveReaders>
    /// Reader `k` waits on `parked[k]` while `k` is not below the active count.
    private let parked: [DispatchSemaphore]
    private let closed = Atomic<Bool>(false)

    init(readers: Int, cores: Int = Int(sysconf(Int32(_SC_NPROCESSORS_ONLN)))) {
        self.readers = max(1, readers)
        active = Mutex(ActiveReaders(readers: self.readers, cores: cores))
        parked = (0..<self.readers).map { _ in DispatchSemaphore(value: 0) }
        for reader in 0..<self.readers {
            DispatchQueue(label: "kitt.import.read.\(reader)").async(group: running) { [self] in
                while true {
                    // A signal left over from an earlier raise only makes this look again.
                    while reader >= active.withLock({ $0.count }), !closed.load(ordering: .acquiring) {
                        parked[reader].wait()
                    }
                    guard let task = next() else { return }
                    let before = Self.blocksRead()
                    let scan = DirectoryScan(task.directory)
                    record(readDisk: Self.blocksRead() > before)
                    task.slot.fill(scan)
                }
            }
        }
    }

    /// Readers allowed to scan at once now (for tests).
    var activeCount: Int { active.withLock { $0.count } }

    /// Counts a finished scan; wakes the parked readers the new count lets in.
    private func record(readDisk: Bool) {
        let (before, after) = active.withLock { active in
            let before = active.count
            active.record(readDisk: readDisk)
            return (before, active.count)
        }
        for reader in before..<max(before, after) { parked[reader].signal() }
    }

    /// Blocks this thread has read from a disk (`getrusage(RUSAGE_THREAD)`; Glibc's Swift
    /// module does not name RUSAGE_THREAD, which is 1 on Linux): grows only when a read
    /// missed the page cache.
    private static func blocksRead() -> Int {
        var usage = rusage()
        guard getrusage(__rusage_who_t(1), &usage) == 0 else { return 0 }
        return usage.ru_inblock
    }

    /// Has a reader scan `directory`.
    func scan(_ directory: String) -> Slot {
        let slot = Slot()
        queue.withLock { $0.tasks.append((directory, slot)) }
        available.signal()
        return slot
    }

    /// Drops the scans not started and waits for the readers to end.
    func close() {
        queue.withLock { $0 = Queue() }
        closed.store(true, ordering: .releasing)
        for reader in 0..<readers {
            parked[reader].signal()
            available.signal()
        }
        running.wait()
    }

    private func next() -> (directory: String, slot: Slot)? {
        available.wait()
        return queue.withLock { queue in
            guard queue.head < queue.tasks.count else { return nil }
            let task = queue.tasks[queue.head]
            queue.head += 1
            if queue.head >= 256, queue.head * 2 >= queue.tasks.count {  // drop what was taken
                queue.tasks.removeFirst(queue.head)
                queue.head = 0
            }
            return task
        }
    }
}

/// How many import readers scan at once (`DirectoryReaders`), decided every `window` scans
/// from how many of them read from the disk: every reader while at least `diskScans` of
/// them did (waiting on the disk, more reads in flight go faster), one per core otherwise
/// (the files are in the page cache: scanning is CPU work, and readers beyond the cores only
/// take them from the writer). Starts with every reader.
struct ActiveReaders {
    static let window = 64
    /// Scans of a window that read from the disk for it to count as "on the disk": 1 in 16.
    static let diskScans = window / 16

    let readers: Int
    let cores: Int
    private(set) var count: Int
    private var scans = 0
    private var fromDisk = 0

    init(readers: Int, cores: Int) {
        self.readers = max(1, readers)
        self.cores = max(1, cores)
        count = self.readers
    }

    mutating func record(readDisk: Bool) {
        scans += 1
        if readDisk { fromDisk += 1 }
        guard scans == Self.window else { return }
        count = fromDisk >= Self.diskScans ? readers : min(readers, cores)
        scans = 0
        fromDisk = 0
    }
}
