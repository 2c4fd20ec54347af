import KittStore
import Synchronization

/// Response bodies computed from the results tables (list pages, aggregates), valid for one
/// `ResultsGeneration`: any committed change to results makes every entry stale. Read the
/// generation BEFORE querying and store under it, so an entry is never older than its tag.
final class ResultsCache: Sendable {
    private struct Entry {
        let generation: Int
        let bytes: [UInt8]
    }

    private let entries = Mutex<[String: Entry]>([:])
    private let capacity: Int

    init(capacity: Int = 512) {
        self.capacity = capacity
    }

    /// The cached bytes for `key`, or computes, stores and returns them.
    func bytes(for key: String, compute: () throws -> [UInt8]) rethrows -> [UInt8] {
        let generation = ResultsGeneration.current
        if let hit = entries.withLock({ $0[key] }), hit.generation == generation {
            return hit.bytes
        }
        let bytes = try compute()
        entries.withLock { entries in
            if entries.count >= capacity { entries.removeAll(keepingCapacity: true) }
            entries[key] = Entry(generation: generation, bytes: bytes)
        }
        return bytes
    }
}
