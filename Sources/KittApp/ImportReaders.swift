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

    init(readers: Int) {
        self.readers = max(1, readers)
        for reader in 0..<self.readers {
            DispatchQueue(label: "kitt.import.read.\(reader)").async(group: running) { [self] in
                while let task = next() { task.slot.fill(DirectoryScan(task.directory)) }
            }
        }
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
        for _ in 0..<readers { available.signal() }
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
