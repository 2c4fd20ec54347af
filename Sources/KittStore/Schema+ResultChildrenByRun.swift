import KittSQLite

extension Schema {
    /// Row ids per run for its benchmark and metric rows: the rows of run `rid` have the ids
    /// `rid × childIDStride` + 0, 1, 2... in document order (`ResultsRepository.insert`).
    static let childIDStride: Int64 = 1 << 24

    /// The v12 child tables' columns (no foreign keys, no indexes), for the migration and for
    /// `renumberResultChildren`, which rebuilds the same tables.
    static let benchmarksColumns = """
        (
            id INTEGER PRIMARY KEY,
            run INTEGER NOT NULL,
            test_name TEXT NOT NULL DEFAULT '',
            test_version TEXT NOT NULL DEFAULT '',
            run_number INTEGER NOT NULL DEFAULT 0,
            passed INTEGER NOT NULL DEFAULT 0
        )
        """
    static let metricsColumns = """
        (
            id INTEGER PRIMARY KEY,
            run INTEGER NOT NULL,
            benchmark_id INTEGER NOT NULL,
            name TEXT NOT NULL,
            value REAL NOT NULL
        )
        """

    /// A stored result's benchmark and metric rows, found by their run through their row
    /// ids instead of through indexes (issue 10: the cost of storing one result).
    ///
    /// Before, a result of 2 benchmarks with 4 metrics each took 38 B-tree inserts; 24 of
    /// them for its 8 metric rows (the row, `metrics_run_name`, `metrics_benchmark`) and 4
    /// for its benchmarks (the row, `benchmarks_run`). Nothing reads metric rows by name or
    /// by benchmark any more (the aggregate reads the running totals of v5), and a run's
    /// children are only ever read or deleted with their run. So:
    /// - a child row's id is `rid × 2^24 + its position in the run` (`childIDStride`): a
    ///   run's rows are one id range of the table B-tree, appended at its end, and need no
    ///   index to be found (a run has far fewer than 2^24 metrics: a request body is at most
    ///   a few MiB; the insert refuses more);
    /// - no foreign keys on them (a cascade must find a parent's children through an index);
    ///   a trigger deletes a run's two ranges with the run, so `DELETE FROM runs` still
    ///   removes everything of a run, as the cascade did (`hardware` keeps its cascade: its
    ///   key is the run).
    /// Per result: 20 B-tree inserts instead of 38. The columns are unchanged, so readers by
    /// column name (`StoreCopy` to PostgreSQL) see the same tables; only the ids differ.
    ///
    /// The rows are rebuilt with their new ids, in the order they had within their run. A
    /// row's position is its id minus its run's first id where the run's ids are contiguous
    /// (everything kitt wrote: a run's rows went in together), else counted among its run's
    /// rows through the old (run) indexes; so the migration keeps only a row per run in
    /// temporary tables (the writer's temp store is in memory) and never sorts all rows
    /// (a window function over the rows took 190 MB at 200,000 results).
    static let v12ResultChildrenByRun = Migration(
        version: 12, name: "result benchmarks and metrics keyed by run, without indexes",
        sql: """
            CREATE TEMP TABLE benchmark_runs_v12 (run INTEGER PRIMARY KEY, first INTEGER NOT NULL, contiguous INTEGER NOT NULL);
            INSERT INTO temp.benchmark_runs_v12
                SELECT run, MIN(id), MAX(id) - MIN(id) + 1 = COUNT(*) FROM benchmarks GROUP BY run;
            CREATE TEMP TABLE metric_runs_v12 (run INTEGER PRIMARY KEY, first INTEGER NOT NULL, contiguous INTEGER NOT NULL);
            INSERT INTO temp.metric_runs_v12
                SELECT run, MIN(id), MAX(id) - MIN(id) + 1 = COUNT(*) FROM metrics GROUP BY run;

            CREATE TABLE benchmarks_v12 \(benchmarksColumns);
            INSERT INTO benchmarks_v12 (id, run, test_name, test_version, run_number, passed)
                SELECT b.run * \(childIDStride) + CASE WHEN r.contiguous THEN b.id - r.first
                        ELSE (SELECT COUNT(*) FROM benchmarks o WHERE o.run = b.run AND o.id < b.id) END,
                    b.run, b.test_name, b.test_version, b.run_number, b.passed
                FROM benchmarks b JOIN temp.benchmark_runs_v12 r ON r.run = b.run;

            CREATE TABLE metrics_v12 \(metricsColumns);
            INSERT INTO metrics_v12 (id, run, benchmark_id, name, value)
                SELECT m.run * \(childIDStride) + CASE WHEN r.contiguous THEN m.id - r.first
                        ELSE (SELECT COUNT(*) FROM metrics o WHERE o.run = m.run AND o.id < m.id) END,
                    m.run,
                    m.run * \(childIDStride) + CASE WHEN br.contiguous THEN m.benchmark_id - br.first
                        ELSE (SELECT COUNT(*) FROM benchmarks o WHERE o.run = m.run AND o.id < m.benchmark_id) END,
                    m.name, m.value
                FROM metrics m JOIN temp.metric_runs_v12 r ON r.run = m.run
                    JOIN temp.benchmark_runs_v12 br ON br.run = m.run;
            DROP TABLE temp.benchmark_runs_v12;
            DROP TABLE temp.metric_runs_v12;

            DROP TABLE metrics;
            DROP TABLE benchmarks;
            ALTER TABLE benchmarks_v12 RENAME TO benchmarks;
            ALTER TABLE metrics_v12 RENAME TO metrics;

            \(deleteChildrenTrigger)
            """)

    /// Puts every benchmark and metric row into its run's id range (v12) when some are not:
    /// for stores filled by copying rows from elsewhere (`kitt migrate` from PostgreSQL,
    /// whose ids follow its own sequences). Without it a deleted result would leave its rows
    /// behind and its metrics in the aggregate. Inside the caller's write transaction; rows
    /// keep their order within their run. Costs one scan when every id is in range already.
    public static func renumberResultChildren(_ connection: Connection) throws {
        let outside = try connection.queryOne(
            """
            SELECT EXISTS (SELECT 1 FROM benchmarks WHERE id < run * \(childIDStride) OR id >= (run + 1) * \(childIDStride))
                OR EXISTS (SELECT 1 FROM metrics WHERE id < run * \(childIDStride) OR id >= (run + 1) * \(childIDStride))
            """)?.int(0) ?? 0
        guard outside != 0 else { return }
        try connection.execute(
            """
            DROP TRIGGER runs_delete_children;
            CREATE TEMP TABLE benchmark_ids_renumbered (old INTEGER PRIMARY KEY, new INTEGER NOT NULL);
            INSERT INTO temp.benchmark_ids_renumbered
                SELECT id, run * \(childIDStride) + ROW_NUMBER() OVER (PARTITION BY run ORDER BY id) - 1 FROM benchmarks;
            CREATE TABLE benchmarks_renumbered \(benchmarksColumns);
            INSERT INTO benchmarks_renumbered (id, run, test_name, test_version, run_number, passed)
                SELECT n.new, b.run, b.test_name, b.test_version, b.run_number, b.passed
                FROM benchmarks b JOIN temp.benchmark_ids_renumbered n ON n.old = b.id;
            CREATE TABLE metrics_renumbered \(metricsColumns);
            INSERT INTO metrics_renumbered (id, run, benchmark_id, name, value)
                SELECT m.run * \(childIDStride) + ROW_NUMBER() OVER (PARTITION BY m.run ORDER BY m.id) - 1,
                    m.run, n.new, m.name, m.value
                FROM metrics m JOIN temp.benchmark_ids_renumbered n ON n.old = m.benchmark_id;
            DROP TABLE temp.benchmark_ids_renumbered;
            DROP TABLE metrics;
            DROP TABLE benchmarks;
            ALTER TABLE benchmarks_renumbered RENAME TO benchmarks;
            ALTER TABLE metrics_renumbered RENAME TO metrics;
            \(deleteChildrenTrigger)
            """)
    }

    /// Deletes a run's benchmark and metric rows with the run (v12).
    static let deleteChildrenTrigger = """
        CREATE TRIGGER runs_delete_children AFTER DELETE ON runs BEGIN
            DELETE FROM metrics WHERE id >= old.rid * \(childIDStride) AND id < (old.rid + 1) * \(childIDStride);
            DELETE FROM benchmarks WHERE id >= old.rid * \(childIDStride) AND id < (old.rid + 1) * \(childIDStride);
        END;
        """
}
