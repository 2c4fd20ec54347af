import KittSQLite
import Synchronization

/// The changes one write transaction makes to the result summaries of schema v5, gathered
/// in memory as runs are stored or deleted and written once before COMMIT
/// (`CommitAccumulator`): a group-commit batch of agents' reports, or an import batch,
/// updates each summary row once instead of once per result.
final class ResultSummaryChanges: CommitAccumulator {
    /// What of a run the summaries need.
    struct Run {
        let id: String
        let model: String
        let engine: String
        let suiteName: String
        let timestamp: String
    }

    private struct GroupKey: Hashable { let kind: String; let value: String }
    private struct SetKey: Hashable { let model: String; let engine: String; let suiteName: String }

    /// Runs in or out of one (model, engine, suite) set, or one group, and their metric sums,
    /// gathered at flush (a batch holds far fewer sets than runs) and spread to the set's
    /// three groups. Metrics are indexed by `MetricNames` (one hash per name and run, then
    /// array sums): merging name-keyed dictionaries was ~4 % of the writer's work per report.
    private struct SetDelta {
        var runs = 0
        var counts: [Int] = []
        var totals: [Double] = []

        mutating func add(metric index: Int, count: Int, total: Double) {
            if index >= counts.count {
                counts += repeatElement(0, count: index + 1 - counts.count)
                totals += repeatElement(0, count: index + 1 - totals.count)
            }
            counts[index] += count
            totals[index] += total
        }

        /// Adds a run stored (`sign` 1) or deleted (-1) with its metrics.
        mutating func add(run sign: Int, _ metrics: [(name: String, count: Int, total: Double)], names: inout MetricNames) {
            runs += sign
            for metric in metrics {
                add(metric: names.index(of: metric.name), count: sign * metric.count, total: Double(sign) * metric.total)
            }
        }

        mutating func add(_ other: SetDelta) {
            runs += other.runs
            for index in other.counts.indices {
                add(metric: index, count: other.counts[index], total: other.totals[index])
            }
        }
    }

    /// The metric names of one flush, numbered in order of first appearance.
    private struct MetricNames {
        private(set) var names: [String] = []
        private var indices: [String: Int] = [:]

        mutating func index(of name: String) -> Int {
            if let known = indices[name] { return known }
            indices[name] = names.count
            names.append(name)
            return names.count - 1
        }
    }

    /// One list's share of the runs at flush: the change to its head chunk, and the runs
    /// older than its newest chunk key (imports, deletes), in list order.
    private struct ListPlacement {
        let list: ResultList
        let newest: ChunkKey?
        /// The runs in its head chunk before this transaction.
        let headCount: Int
        var head = 0
        var older: [ResultListChunks.Placed] = []

        mutating func add(_ run: Run, _ delta: Int) {
            // Most runs (agents' reports) are newer than every chunk key of their lists: they
            // belong to the head chunk, which one look at the newest key tells.
            if ResultListChunks.isBefore(run.timestamp, run.id, newest) {
                head += delta
            } else {
                older.append(.init(timestamp: run.timestamp, id: run.id, delta: delta))
            }
        }
    }

    /// Set by `flush`: the writer's head cache, and each list's head after this transaction
    /// (nil: not known, forget it), to keep once it has committed.
    private var headCache: ListHeadCache?
    private var headsAfter: [ResultList: (count: Int, newest: ChunkKey?)?] = [:]
    /// Runs in (+1) or out (-1), in order, with their metrics. Only appended to until the
    /// flush: a group commit's bodies each record one run in a scope of their own, which
    /// joins the transaction's (`absorb`) once the body succeeded, so that joining is cheap.
    private var listed: [(run: Run, delta: Int)] = []
    private var listedMetrics: [[(name: String, count: Int, total: Double)]] = []

    init() {}

    /// Records a run stored (`sign` 1) or deleted (`sign` -1) with its metrics as
    /// (name, count of rows, sum of values).
    func record(_ run: Run, metrics runMetrics: [(name: String, count: Int, total: Double)], sign: Int) {
        listed.append((run, sign))
        listedMetrics.append(runMetrics)
    }

    func absorb(_ other: any CommitAccumulator) {
        guard let other = other as? ResultSummaryChanges else { return }
        listed.append(contentsOf: other.listed)
        listedMetrics.append(contentsOf: other.listedMetrics)
    }

    /// The runs and metric sums per set, metrics numbered in `names`.
    private func sets(_ names: inout MetricNames) -> [SetKey: SetDelta] {
        var sets: [SetKey: SetDelta] = [:]
        for (position, (run, sign)) in listed.enumerated() {
            sets[SetKey(model: run.model, engine: run.engine, suiteName: run.suiteName), default: SetDelta()]
                .add(run: sign, listedMetrics[position], names: &names)
        }
        return sets
    }

    func flush(into c: Connection) throws {
        guard !listed.isEmpty else { return }
        var names = MetricNames()
        let sets = sets(&names)
        // Each set's runs and metrics go to its model, engine and suite groups.
        var groups: [GroupKey: SetDelta] = [:]
        for (key, delta) in sets {
            for group in [GroupKey(kind: "model", value: key.model), GroupKey(kind: "engine", value: key.engine),
                          GroupKey(kind: "suite_name", value: key.suiteName)]
            {
                groups[group, default: SetDelta()].add(delta)
            }
        }
        try SummaryUpsert.groups.apply(
            c, groups.filter { $0.value.runs != 0 }.map { [.text($0.key.kind), .text($0.key.value), SQLiteValue($0.value.runs)] })
        var metricRows: [[SQLiteValue]] = []
        for (group, delta) in groups {
            for index in delta.counts.indices where delta.counts[index] != 0 {
                metricRows.append(
                    [.text(group.kind), .text(group.value), .text(names.names[index]), SQLiteValue(delta.counts[index]),
                     .real(delta.totals[index])])
            }
        }
        try SummaryUpsert.metrics.apply(c, metricRows)
        try SummaryUpsert.sets.apply(
            c,
            sets.filter { $0.value.runs != 0 }.map {
                [.text($0.key.model), .text($0.key.engine), .text($0.key.suiteName), SQLiteValue($0.value.runs)]
            })
        // Chunks are found with the boundaries as they are before this flush; splits last.
        // Most runs (agents' reports) are newer than every chunk key of their lists: they
        // belong to the head chunk, which one look at the newest key per list tells.
        // A batch's runs rarely share all eight lists: room for eight each (bounded) saves
        // growing these dictionaries run after run (~5 % of a flush).
        let expectedLists = min(8 * listed.count, 1024)
        var chunks: [ResultList: [ChunkKey: Int]] = [:]
        chunks.reserveCapacity(expectedLists)
        let cache = c.state(ListHeadCache.self) { ListHeadCache() }
        cache.validate(dataVersion: try c.dataVersion())
        headCache = cache
        // The runs in list order (timestamp DESC, then id), sorted once: every list's share
        // of them then comes out in that order too, as `ResultListChunks.place` needs.
        let order = ResultSummaryChanges.listOrder(listed.map(\.run))
        // A run's eight lists depend only on its set: per set (a batch holds far fewer sets
        // than runs), the lists are made and their newest keys found once.
        var lists: [ListPlacement] = []
        var listIndex: [ResultList: Int] = [:]
        lists.reserveCapacity(expectedLists)
        listIndex.reserveCapacity(expectedLists)
        var listsOfSet: [SetKey: [Int]] = [:]
        let knownLists = c.state(ListsOfSets.self) { ListsOfSets() }
        for position in order {
            let (run, delta) = listed[position]
            let set = SetKey(model: run.model, engine: run.engine, suiteName: run.suiteName)
            let indices: [Int]
            if let known = listsOfSet[set] {
                indices = known
            } else {
                indices = try knownLists.lists(model: set.model, engine: set.engine, suiteName: set.suiteName).map { list in
                    if let index = listIndex[list] { return index }
                    // As committed: nothing in this transaction has changed the chunks yet.
                    let head = try cache[list] ?? ResultListChunks.head(c, list)
                    cache[list] = head
                    lists.append(ListPlacement(list: list, newest: head.newest, headCount: head.count))
                    listIndex[list] = lists.count - 1
                    return lists.count - 1
                }
                listsOfSet[set] = indices
            }
            for index in indices {
                lists[index].add(run, delta)
            }
        }
        for placement in lists {
            if placement.head != 0 { chunks[placement.list, default: [:]][.head, default: 0] += placement.head }
            guard !placement.older.isEmpty else { continue }
            for (chunk, delta) in try ResultListChunks.place(c, placement.list, placement.older) {
                chunks[placement.list, default: [:]][chunk, default: 0] += delta
            }
        }
        let capacity = max(1, ResultListChunks.capacity.load(ordering: .relaxed))
        var headCounts: [ResultList: Int] = [:]
        headCounts.reserveCapacity(lists.count)
        for placement in lists { headCounts[placement.list] = placement.headCount }
        try ResultListChunks.apply(c, chunks, headCounts: headCounts, capacity: capacity)
        // A head that only grew without splitting has a known count after this; any other
        // change (older chunks, deletes, splits) is read again next time.
        headsAfter.reserveCapacity(chunks.count)
        for placement in lists {
            guard let deltas = chunks[placement.list] else { continue }
            if deltas.count == 1, let delta = deltas[.head], delta > 0, placement.headCount + delta <= 2 * capacity {
                headsAfter[placement.list] = (placement.headCount + delta, placement.newest)
            } else {
                headsAfter[placement.list] = .some(nil)
            }
        }
        try c.run("UPDATE results_changes SET changes = changes + 1")
    }

    /// The positions of `runs` in list order (timestamp DESC, then id; equal runs keep their
    /// order). Positions are sorted rather than the runs (moving a run moves five strings:
    /// that was most of an import batch's flush). An import walking runs in time order
    /// brings them in exactly the reverse order, and agents' reports mostly in it already:
    /// both are seen in one pass, without sorting.
    static func listOrder(_ runs: [Run]) -> [Int] {
        func precedes(_ a: Int, _ b: Int) -> Bool {
            ResultListChunks.precedes(runs[a].timestamp, runs[a].id, runs[b].timestamp, runs[b].id)
        }
        let positions = Array(runs.indices)
        // In order already: no pair out of order.
        if !runs.indices.dropFirst().contains(where: { precedes($0, $0 - 1) }) { return positions }
        // Exactly reversed: each run strictly before the one before it.
        if !runs.indices.dropFirst().contains(where: { !precedes($0, $0 - 1) }) { return positions.reversed() }
        return positions.sorted(by: precedes)
    }

    func didCommit() {
        if let headCache {
            for (list, head) in headsAfter { headCache[list] = head }
        }
        let stored = listed.reduce(0) { $0 + ($1.delta > 0 ? 1 : 0) }
        ResultSummaryChanges.stored.add(stored, ordering: .relaxed)
        ResultSummaryChanges.deleted.add(listed.count - stored, ordering: .relaxed)
    }

    /// Results this process stored and deleted (committed), for metrics.
    static let stored = Atomic<Int>(0)
    static let deleted = Atomic<Int>(0)
}
