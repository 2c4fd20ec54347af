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
    private struct MetricKey: Hashable { let kind: String; let value: String; let name: String }
    private struct SetKey: Hashable { let model: String; let engine: String; let suiteName: String }

    private var groups: [GroupKey: Int] = [:]
    private var metrics: [MetricKey: (count: Int, total: Double)] = [:]
    private var sets: [SetKey: Int] = [:]
    /// Runs in (+1) or out (-1), in order, for the list chunks.
    private var listed: [(run: Run, delta: Int)] = []

    init() {}

    /// Records a run stored (`sign` 1) or deleted (`sign` -1) with its metrics as
    /// (name, count of rows, sum of values).
    func record(_ run: Run, metrics runMetrics: [(name: String, count: Int, total: Double)], sign: Int) {
        let columns = [("model", run.model), ("engine", run.engine), ("suite_name", run.suiteName)]
        for (kind, value) in columns {
            groups[GroupKey(kind: kind, value: value), default: 0] += sign
            for metric in runMetrics {
                let key = MetricKey(kind: kind, value: value, name: metric.name)
                let old = metrics[key] ?? (0, 0)
                metrics[key] = (old.count + sign * metric.count, old.total + Double(sign) * metric.total)
            }
        }
        sets[SetKey(model: run.model, engine: run.engine, suiteName: run.suiteName), default: 0] += sign
        listed.append((run, sign))
    }

    func absorb(_ other: any CommitAccumulator) {
        guard let other = other as? ResultSummaryChanges else { return }
        for (key, delta) in other.groups { groups[key, default: 0] += delta }
        for (key, delta) in other.metrics {
            let old = metrics[key] ?? (0, 0)
            metrics[key] = (old.count + delta.count, old.total + delta.total)
        }
        for (key, delta) in other.sets { sets[key, default: 0] += delta }
        listed.append(contentsOf: other.listed)
    }

    func flush(into c: Connection) throws {
        guard !listed.isEmpty else { return }
        for (key, delta) in groups where delta != 0 {
            let runs = try c.queryOne(
                """
                INSERT INTO result_groups (kind, value, runs) VALUES (?, ?, ?)
                ON CONFLICT (kind, value) DO UPDATE SET runs = runs + excluded.runs RETURNING runs
                """, [.text(key.kind), .text(key.value), SQLiteValue(delta)])?.int(0) ?? 0
            if runs <= 0 {
                try c.run("DELETE FROM result_groups WHERE kind = ? AND value = ?", [.text(key.kind), .text(key.value)])
            }
        }
        for (key, delta) in metrics where delta.count != 0 {
            let count = try c.queryOne(
                """
                INSERT INTO metric_totals (kind, value, name, count, total) VALUES (?, ?, ?, ?, ?)
                ON CONFLICT (kind, value, name) DO UPDATE
                    SET count = count + excluded.count, total = total + excluded.total RETURNING count
                """,
                [.text(key.kind), .text(key.value), .text(key.name), SQLiteValue(delta.count), .real(delta.total)]
            )?.int(0) ?? 0
            if count <= 0 {
                try c.run(
                    "DELETE FROM metric_totals WHERE kind = ? AND value = ? AND name = ?",
                    [.text(key.kind), .text(key.value), .text(key.name)])
            }
        }
        for (key, delta) in sets where delta != 0 {
            let runs = try c.queryOne(
                """
                INSERT INTO result_sets (model, engine, suite_name, runs) VALUES (?, ?, ?, ?)
                ON CONFLICT (model, engine, suite_name) DO UPDATE SET runs = runs + excluded.runs RETURNING runs
                """, [.text(key.model), .text(key.engine), .text(key.suiteName), SQLiteValue(delta)])?.int(0) ?? 0
            if runs <= 0 {
                try c.run(
                    "DELETE FROM result_sets WHERE model = ? AND engine = ? AND suite_name = ?",
                    [.text(key.model), .text(key.engine), .text(key.suiteName)])
            }
        }
        // Chunks are found with the boundaries as they are before this flush; splits last.
        // Most runs (agents' reports) are newer than every chunk key of their lists: they
        // belong to the head chunk, which one look at the newest key per list tells.
        var chunks: [ResultList: [ChunkKey: Int]] = [:]
        var newestKeys: [ResultList: ChunkKey?] = [:]
        for (run, delta) in listed {
            for list in ResultList.lists(model: run.model, engine: run.engine, suiteName: run.suiteName) {
                let newest: ChunkKey?
                if let known = newestKeys[list] {
                    newest = known
                } else {
                    newest = try ResultListChunks.newestKey(c, list)
                    newestKeys[list] = newest
                }
                let chunk = try ResultListChunks.isBefore(run.timestamp, run.id, newest)
                    ? .head : ResultListChunks.chunk(c, list, timestamp: run.timestamp, id: run.id)
                chunks[list, default: [:]][chunk, default: 0] += delta
            }
        }
        try ResultListChunks.apply(c, chunks)
        try c.run("UPDATE results_changes SET changes = changes + 1")
    }

    func didCommit() {
        let stored = listed.reduce(0) { $0 + ($1.delta > 0 ? 1 : 0) }
        ResultSummaryChanges.stored.add(stored, ordering: .relaxed)
        ResultSummaryChanges.deleted.add(listed.count - stored, ordering: .relaxed)
    }

    /// Results this process stored and deleted (committed), for metrics.
    static let stored = Atomic<Int>(0)
    static let deleted = Atomic<Int>(0)
}
