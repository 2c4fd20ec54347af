import Synchronization

/// Answers computed from the results (list pages, aggregates), each valid for one value of
/// the store's results change counter (`ResultsRepository.changeCount`), which every process
/// writing results advances in the same transaction. An entry also remembers the database's
/// `data_version` seen before it was last validated: while that is unchanged nothing at all
/// was committed, so the entry is served without reading the counter.
///
/// Bounded by bytes (SPEC §7.2: caches ≤ 64 MiB in total; this one takes `budget`): when
/// over, entries of an older counter go first, then the least recently used, down to three
/// quarters of the budget. Evicting sorts every entry (thousands of pages once full), so it
/// must not happen at every store: evicting a quarter at a time makes it one sort per
/// quarter of the budget stored (each store past a full cache sorted 2,000 entries, ~5 ms).
final class ResultsCache: Sendable {
    struct Entry: Sendable {
        let changes: Int
        var dataVersion: Int
        let value: any Sendable
        let bytes: Int
        var lastUse: UInt64
    }

    private struct State {
        var entries: [String: Entry] = [:]
        var bytes = 0
        var clock: UInt64 = 0
        var newestChanges = 0
        var evictions = 0
    }

    static let defaultBudget = 32 << 20
    private let state = Mutex(State())
    let budget: Int

    init(budget: Int = ResultsCache.defaultBudget) {
        self.budget = budget
    }

    /// The entry for `key`, marked as used.
    func entry(_ key: String) -> Entry? {
        state.withLock { state in
            guard var entry = state.entries[key] else { return nil }
            state.clock += 1
            entry.lastUse = state.clock
            state.entries[key] = entry
            return entry
        }
    }

    /// Records that `key`'s entry was found current at `dataVersion`.
    func revalidate(_ key: String, dataVersion: Int) {
        state.withLock { $0.entries[key]?.dataVersion = dataVersion }
    }

    /// Stores `value` (about `bytes` bytes) for `key`, then evicts down to the budget.
    func store(_ key: String, _ value: any Sendable, bytes: Int, changes: Int, dataVersion: Int) {
        guard bytes <= budget / 4 else { return }  // one huge answer must not flush the rest
        state.withLock { state in
            state.clock += 1
            state.newestChanges = max(state.newestChanges, changes)
            if let old = state.entries.removeValue(forKey: key) { state.bytes -= old.bytes }
            state.entries[key] = Entry(
                changes: changes, dataVersion: dataVersion, value: value, bytes: bytes, lastUse: state.clock)
            state.bytes += bytes
            guard state.bytes > budget else { return }
            let newest = state.newestChanges
            let order = state.entries.sorted { a, b in
                let aStale = a.value.changes < newest
                let bStale = b.value.changes < newest
                return aStale != bStale ? aStale : a.value.lastUse < b.value.lastUse
            }
            state.evictions += 1
            let lowWater = budget - budget / 4
            for (victim, entry) in order where state.bytes > lowWater {
                state.entries[victim] = nil
                state.bytes -= entry.bytes
            }
        }
    }

    /// Times the cache has evicted (tests).
    var evictionCount: Int { state.withLock { $0.evictions } }

    /// Bytes held (tests, metrics).
    var byteCount: Int { state.withLock { $0.bytes } }
}
