import KittJSON
import KittPostgres
import KittStore
import Synchronization

/// Running totals for the results aggregate and list totals on PostgreSQL (schema v6), so
/// they cost O(groups) instead of a scan of every run and metric — without a hot row that
/// every instance's writers would queue on.
///
/// Writers only append: each stored or deleted run adds signed rows to
/// `result_total_deltas` (one per group column for the run count, one per group column and
/// metric name for the metric count and sum), in the write's own transaction. Readers add
/// the folded totals (`result_group_totals`, `result_metric_totals`) and the pending deltas.
/// Now and then one writer folds the deltas into the totals (`compact`: one transaction that
/// deletes the deltas it sees and adds them up, under a try-lock so writers never wait on it);
/// a reader's snapshot sees a delta either before or after that move, never twice or not at all.
///
/// Sums are `numeric`: metrics may be near ±1e308, and PostgreSQL's float8 addition fails
/// on overflow (where SQLite's gives infinity); a numeric sum never fails, and the average
/// is computed in Swift, where it may be infinite, as on SQLite.
enum PostgresResultTotals {
    /// The columns the aggregate groups by (`ResultGroup`'s raw values).
    static let kinds = ["model", "engine", "suite_name"]

    static let migration = PostgresMigration(
        version: 6, name: "results running totals (aggregate and list totals in O(groups))",
        sql: """
            CREATE TABLE result_group_totals (
                kind text COLLATE "C" NOT NULL,
                value text COLLATE "C" NOT NULL,
                runs bigint NOT NULL,
                PRIMARY KEY (kind, value)
            );
            CREATE TABLE result_metric_totals (
                kind text COLLATE "C" NOT NULL,
                value text COLLATE "C" NOT NULL,
                name text COLLATE "C" NOT NULL,
                count bigint NOT NULL,
                total numeric,
                PRIMARY KEY (kind, value, name)
            );
            -- name NULL: a run count delta; else a metric's count and sum.
            CREATE TABLE result_total_deltas (
                id bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
                kind text COLLATE "C" NOT NULL,
                value text COLLATE "C" NOT NULL,
                name text COLLATE "C",
                count bigint NOT NULL,
                total numeric
            );
            """ + rebuildSQL)

    /// Recomputes the totals from the runs and metrics (the migration's backfill, and after
    /// `StoreCopy` wrote rows directly).
    static let rebuildSQL = kinds.map { kind in
        """

        INSERT INTO result_group_totals SELECT '\(kind)', \(kind), count(*) FROM runs GROUP BY \(kind);
        INSERT INTO result_metric_totals SELECT '\(kind)', r.\(kind), m.name, count(*), sum(m.value::numeric)
            FROM metrics m JOIN runs r ON r.rid = m.run GROUP BY r.\(kind), m.name;
        """
    }.joined()

    /// Empties the totals and recomputes them (inside the caller's transaction).
    static func rebuild(_ connection: PostgresConnection) throws {
        try connection.execute(
            "DELETE FROM result_total_deltas; DELETE FROM result_group_totals; DELETE FROM result_metric_totals;"
                + rebuildSQL)
    }

    // MARK: Writing

    /// One run's contribution, `sign` +1 when stored and -1 when deleted.
    struct Contribution {
        var groups: [String: String]  // kind → value
        var metrics: [(name: String, count: Int, total: Double)]
    }

    static func contribution(of document: ResultDocument) -> Contribution {
        var sums: [String: (count: Int, total: Double)] = [:]
        var order: [String] = []
        for benchmark in document.benchmarks {
            for metric in benchmark.metrics {
                if sums[metric.name] == nil { order.append(metric.name) }
                sums[metric.name, default: (0, 0)].count += 1
                sums[metric.name, default: (0, 0)].total += metric.value
            }
        }
        return Contribution(
            groups: ["model": document.model, "engine": document.engine, "suite_name": document.suiteName],
            metrics: order.map { name in (name, sums[name]?.count ?? 0, sums[name]?.total ?? 0) })
    }

    /// A stored run's contribution read back (for a delete), nil when there is no such run.
    static func contribution(ofRunID id: String, _ connection: PostgresConnection) throws -> Contribution? {
        guard let run = try connection.queryOne(
            "SELECT rid, model, engine, suite_name FROM runs WHERE id = $1", [.text(id)])
        else { return nil }
        let metrics = try connection.query(
            "SELECT name, count(*), sum(value::numeric) FROM metrics WHERE run = $1 GROUP BY name",
            [PostgresValue(run.int64(0) ?? 0)]
        ).rows.map { row in (name: row.string(0) ?? "", count: row.int(1) ?? 0, total: row.double(2) ?? 0) }
        return Contribution(
            groups: ["model": run.string(1) ?? "", "engine": run.string(2) ?? "", "suite_name": run.string(3) ?? ""],
            metrics: metrics)
    }

    /// Appends the signed deltas of `contributions` (one statement).
    static func record(_ contributions: [Contribution], sign: Int, _ connection: PostgresConnection) throws {
        var values: [PostgresValue] = []
        var tuples: [String] = []
        func add(_ kind: String, _ value: String, _ name: String?, _ count: Int, _ total: Double?) {
            let n = values.count
            tuples.append("($\(n + 1), $\(n + 2), $\(n + 3), $\(n + 4), $\(n + 5))")
            values += [.text(kind), .text(value), name.map { .text($0) } ?? .null, PostgresValue(sign * count),
                       total.map { .double(Double(sign) * $0) } ?? .null]
        }
        for contribution in contributions {
            for kind in kinds {
                let value = contribution.groups[kind] ?? ""
                add(kind, value, nil, 1, nil)
                for metric in contribution.metrics { add(kind, value, metric.name, metric.count, metric.total) }
            }
        }
        // At most 65,535 parameters per statement: 5 per row.
        let rowsPerStatement = 10_000
        var start = 0
        while start < tuples.count {
            let end = min(tuples.count, start + rowsPerStatement)
            try connection.run(
                "INSERT INTO result_total_deltas (kind, value, name, count, total) VALUES "
                    + tuples[start..<end].joined(separator: ", "),
                Array(values[(start * 5)..<(end * 5)]))
            start = end
        }
    }

    // MARK: Folding

    /// Writes between two folds by one process (a fold also runs when asked directly).
    static let writesPerCompaction = 64
    private static let writes = Atomic<Int>(0)
    static let compactionLockKey: Int64 = 0x6B69_7474_746F  // "kittto"

    /// Counts a write; every `writesPerCompaction`th one folds the deltas (after its commit).
    static func wrote(_ pool: PostgresPool) {
        guard writes.add(1, ordering: .relaxed).newValue % writesPerCompaction == 0 else { return }
        if (try? compact(pool)) == true {
            // Each fold leaves the deltas it moved as dead rows, which every totals read would
            // scan until autovacuum (a minute away) ran: 300,000 of them after 20,000 POSTs
            // made the aggregate 25× slower. The table is small, so vacuuming it now is cheap —
            // but never waited for: SKIP_LOCKED leaves it to a vacuum already running (they
            // queued on each other and starved the pool), and no truncation, whose exclusive
            // lock would stall the writers appending deltas (PostgreSQL 12+).
            _ = try? pool.withConnection {
                try $0.execute("VACUUM (SKIP_LOCKED, TRUNCATE false) result_total_deltas")
            }
        }
    }

    /// Folds every delta this transaction sees into the totals; false when another fold holds
    /// the lock (never waits). Groups whose run count falls to zero are removed.
    @discardableResult
    static func compact(_ pool: PostgresPool) throws -> Bool {
        try pool.transaction { connection in
            guard try connection.queryOne(
                "SELECT pg_try_advisory_xact_lock($1)", [.integer(compactionLockKey)])?.bool(0) == true
            else { return false }
            try connection.execute(
                """
                WITH moved AS (DELETE FROM result_total_deltas RETURNING kind, value, name, count, total),
                folded AS (
                    SELECT kind, value, name, sum(count) AS count, sum(total) AS total
                    FROM moved GROUP BY kind, value, name),
                groups AS (
                    INSERT INTO result_group_totals AS t (kind, value, runs)
                        SELECT kind, value, count FROM folded WHERE name IS NULL
                        ON CONFLICT (kind, value) DO UPDATE SET runs = t.runs + excluded.runs
                        RETURNING 1)
                INSERT INTO result_metric_totals AS t (kind, value, name, count, total)
                    SELECT kind, value, name, count, total FROM folded WHERE name IS NOT NULL
                    ON CONFLICT (kind, value, name) DO UPDATE
                    SET count = t.count + excluded.count, total = t.total + excluded.total;
                DELETE FROM result_group_totals WHERE runs <= 0;
                DELETE FROM result_metric_totals WHERE count <= 0;
                """)
            return true
        }
    }

    // MARK: Reading

    /// Runs per value of `kind` (values with runs only), ordered bytewise.
    static func groups(_ kind: String, _ connection: PostgresConnection) throws -> [(value: String, runs: Int)] {
        try connection.query(
            """
            SELECT value, sum(runs) FROM (
                SELECT value, runs FROM result_group_totals WHERE kind = $1
                UNION ALL SELECT value, count FROM result_total_deltas WHERE kind = $1 AND name IS NULL
            ) g GROUP BY value HAVING sum(runs) > 0 ORDER BY value
            """, [.text(kind)]
        ).rows.map { row in (row.string(0) ?? "", row.int(1) ?? 0) }
    }

    /// (count, total) per (value, metric) of `kind`, for the metrics asked.
    static func metricTotals(_ kind: String, names: [String], _ connection: PostgresConnection) throws
        -> [String: [String: (count: Int, total: Double?)]]
    {
        guard !names.isEmpty else { return [:] }
        let list = names.indices.map { "$\($0 + 2)" }.joined(separator: ", ")
        var out: [String: [String: (count: Int, total: Double?)]] = [:]
        for row in try connection.query(
            """
            SELECT value, name, sum(count), sum(total) FROM (
                SELECT value, name, count, total FROM result_metric_totals WHERE kind = $1 AND name IN (\(list))
                UNION ALL SELECT value, name, count, total FROM result_total_deltas
                    WHERE kind = $1 AND name IN (\(list))
            ) m GROUP BY value, name
            """, [.text(kind)] + names.map { .text($0) }
        ).rows {
            out[row.string(0) ?? "", default: [:]][row.string(1) ?? ""] = (row.int(2) ?? 0, row.double(3))
        }
        return out
    }

    /// Runs whose `kind` column is `value`.
    static func runs(_ kind: String, value: String, _ connection: PostgresConnection) throws -> Int {
        try connection.queryOne(
            """
            SELECT COALESCE(sum(runs), 0) FROM (
                SELECT runs FROM result_group_totals WHERE kind = $1 AND value = $2
                UNION ALL SELECT count FROM result_total_deltas WHERE kind = $1 AND value = $2 AND name IS NULL
            ) g
            """, [.text(kind), .text(value)])?.int(0) ?? 0
    }

    /// Every run (the sum over one group column).
    static func allRuns(_ connection: PostgresConnection) throws -> Int {
        try connection.queryOne(
            """
            SELECT COALESCE(sum(runs), 0) FROM (
                SELECT runs FROM result_group_totals WHERE kind = 'model'
                UNION ALL SELECT count FROM result_total_deltas WHERE kind = 'model' AND name IS NULL
            ) g
            """)?.int(0) ?? 0
    }
}
