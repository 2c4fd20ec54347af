import KittJSON
import KittStore

/// Results (SPEC §5) behind the routes: every call runs off the event loop (reads on the
/// store's reader workers, deletes through the group commit) and answers through its
/// completion; the routes only parse requests and render what comes back. List pages and
/// aggregates are cached (`ResultsCache`) until results change, in any process.
final class ResultsService: Sendable {
    typealias Completion<T> = @Sendable (Result<T, any Error>) -> Void

    struct Page: Sendable {
        let total: Int
        let items: [RawJSON]
    }

    struct Aggregate: Sendable {
        /// The metrics asked, repeats removed (first kept): the order of `averages`.
        let metrics: [String]
        let rows: [ResultsRepository.AggregateRow]
    }

    private let results: any ResultsReading
    private let cache: ResultsCache

    init(store: any DataStore, cache: ResultsCache = ResultsCache()) {
        self.results = store.results
        self.cache = cache
    }

    func list(_ filter: ResultFilter, limit: Int, offset: Int, completion: @escaping Completion<Page>) {
        let key = "list|\(limit)|\(offset)|" + [filter.model, filter.engine, filter.suiteName]
            .map { $0.map { "=\($0.utf8.count):" + $0 } ?? "-" }.joined(separator: "|")
        cached(key, cost: { page in page.items.reduce(128) { $0 + $1.bytes.count + 32 } }, completion: completion) {
            snapshot in
            let (total, items) = try snapshot.list(filter, limit: limit, offset: offset)
            return Page(total: total, items: items)
        }
    }

    func aggregate(groupBy group: ResultGroup, metrics: [String], completion: @escaping Completion<Aggregate>) {
        var unique: [String] = []
        for metric in metrics where !unique.contains(metric) { unique.append(metric) }
        let names = unique
        let key = "aggregate|\(group.rawValue)|" + names.map { "\($0.utf8.count):\($0)" }.joined(separator: "|")
        let cost: @Sendable (Aggregate) -> Int = { aggregate in
            aggregate.rows.reduce(128) { $0 + $1.value.utf8.count + 48 + 9 * $1.averages.count }
        }
        cached(key, cost: cost, completion: completion) { snapshot in
            Aggregate(metrics: names, rows: try snapshot.aggregate(groupBy: group, metrics: names))
        }
    }

    /// The results among `ids` that exist, in the order asked (not cached: ids vary).
    func compare(ids: [String], completion: @escaping Completion<[RawJSON]>) {
        results.readSnapshot({ snapshot in try snapshot.get(ids: ids) }, completion: completion)
    }

    func get(id: String, completion: @escaping Completion<RawJSON?>) {
        results.readSnapshot({ snapshot in try snapshot.get(ids: [id]).first }, completion: completion)
    }

    /// Whether the result existed; answered once the delete has committed.
    func delete(id: String, completion: @escaping Completion<Bool>) {
        results.delete(id: id, completion: completion)
    }

    /// The cached value for `key` if results have not changed since it was computed, else
    /// `compute`d in the same snapshot as the change count it is stored under.
    private func cached<V: Sendable>(
        _ key: String, cost: @escaping @Sendable (V) -> Int, completion: @escaping Completion<V>,
        compute: @escaping @Sendable (any ResultsSnapshotReading) throws -> V
    ) {
        let results = self.results
        let cache = self.cache
        results.readSnapshot({ snapshot in
            // Read before the snapshot starts (its first query), so the snapshot is at least
            // as new as this version.
            let dataVersion = try results.dataVersion
            let entry = cache.entry(key)
            if let entry, let value = entry.value as? V, entry.dataVersion == dataVersion { return value }
            let changes = try snapshot.changeCount()
            if let entry, let value = entry.value as? V, entry.changes == changes {
                cache.revalidate(key, dataVersion: dataVersion)
                return value
            }
            let value = try compute(snapshot)
            cache.store(key, value, bytes: cost(value), changes: changes, dataVersion: dataVersion)
            return value
        }, completion: completion)
    }
}
