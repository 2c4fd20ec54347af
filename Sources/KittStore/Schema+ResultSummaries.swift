import KittSQLite

extension Schema {
    /// Summaries of the results that make every read O(groups) or O(page), whatever the
    /// number of stored results (issue 10). They are kept by `ResultSummaryChanges`, in
    /// Swift, once per write transaction (one group-commit batch), not by triggers: an
    /// earlier attempt with triggers cost ~60 µs per stored result.
    ///
    /// - `result_groups`: runs per (group column, value); `kind` is `model`, `engine` or
    ///   `suite_name`. The aggregate's counts and the single-filter list totals.
    /// - `metric_totals`: count and sum of every metric per (group column, value, metric
    ///   name): the aggregate's averages (sum / count = AVG over those metric rows). `total`
    ///   may be NULL: metrics can be ±1e308, a sum can reach +inf and -inf, and SQLite stores
    ///   their NaN as NULL (the average is then null); a write must never fail on it.
    /// - `result_sets`: runs per (model, engine, suite_name): list totals for combined filters.
    /// - `run_chunks`: the list order (timestamp DESC, id) cut into chunks of about 1,000
    ///   runs, per list filter (`kind` '' with value '' for no filter, or one column and its
    ///   value). A chunk is named by its first key (`ts`, `id`) and holds `count` runs, up to
    ///   the next chunk's key; the primary key is in list order, so walking the chunks and
    ///   finding a run's chunk are index scans. Finding page N walks the chunk counts, then skips at most one
    ///   chunk inside the index. A chunk whose `ts` is the empty BLOB sorts before every
    ///   text timestamp: it starts the list, holding runs newer than every other chunk key.
    /// - `results_changes`: one row counting committed changes to results, so response
    ///   caches in any process know when results (and not just anything) changed.
    public static let v5ResultSummaries = Migration(
        version: 5, name: "result summaries (running totals, counts, list chunks)",
        sql: """
            CREATE TABLE result_groups (
                kind TEXT NOT NULL,
                value TEXT NOT NULL,
                runs INTEGER NOT NULL,
                PRIMARY KEY (kind, value)
            ) WITHOUT ROWID;
            CREATE TABLE metric_totals (
                kind TEXT NOT NULL,
                value TEXT NOT NULL,
                name TEXT NOT NULL,
                count INTEGER NOT NULL,
                total REAL,
                PRIMARY KEY (kind, value, name)
            ) WITHOUT ROWID;
            CREATE TABLE result_sets (
                model TEXT NOT NULL,
                engine TEXT NOT NULL,
                suite_name TEXT NOT NULL,
                runs INTEGER NOT NULL,
                PRIMARY KEY (model, engine, suite_name)
            ) WITHOUT ROWID;
            CREATE TABLE run_chunks (
                kind TEXT NOT NULL,
                value TEXT NOT NULL,
                ts NOT NULL,
                id TEXT NOT NULL,
                count INTEGER NOT NULL,
                PRIMARY KEY (kind, value, ts DESC, id)
            ) WITHOUT ROWID;
            CREATE TABLE results_changes (
                one INTEGER PRIMARY KEY CHECK (one = 1),
                changes INTEGER NOT NULL
            );
            INSERT INTO results_changes VALUES (1, 0);
            \(resultSummariesBackfill)
            """)

    /// Fills the v5 summaries from `runs` and `metrics` (the tables must be empty): the
    /// migration's backfill, and what `rebuildResultSummaries` runs after a bulk copy.
    static let resultSummariesBackfill = """
        INSERT INTO result_groups SELECT 'model', model, COUNT(*) FROM runs GROUP BY model;
        INSERT INTO result_groups SELECT 'engine', engine, COUNT(*) FROM runs GROUP BY engine;
        INSERT INTO result_groups SELECT 'suite_name', suite_name, COUNT(*) FROM runs GROUP BY suite_name;
        INSERT INTO metric_totals SELECT 'model', r.model, m.name, COUNT(*), TOTAL(m.value)
            FROM metrics m JOIN runs r ON r.rid = m.run GROUP BY r.model, m.name;
        INSERT INTO metric_totals SELECT 'engine', r.engine, m.name, COUNT(*), TOTAL(m.value)
            FROM metrics m JOIN runs r ON r.rid = m.run GROUP BY r.engine, m.name;
        INSERT INTO metric_totals SELECT 'suite_name', r.suite_name, m.name, COUNT(*), TOTAL(m.value)
            FROM metrics m JOIN runs r ON r.rid = m.run GROUP BY r.suite_name, m.name;
        INSERT INTO result_sets SELECT model, engine, suite_name, COUNT(*) FROM runs
            GROUP BY model, engine, suite_name;

        -- Every 1024th run of each list (by filter) starts a chunk.
        INSERT INTO run_chunks SELECT '', '', timestamp, id, MIN(1024, n - k)
            FROM (SELECT timestamp, id, ROW_NUMBER() OVER w - 1 AS k, COUNT(*) OVER () AS n
                  FROM runs WINDOW w AS (ORDER BY timestamp DESC, id))
            WHERE k % 1024 = 0;
        INSERT INTO run_chunks SELECT 'model', model, timestamp, id, MIN(1024, n - k)
            FROM (SELECT model, timestamp, id, ROW_NUMBER() OVER w - 1 AS k,
                      COUNT(*) OVER (PARTITION BY model) AS n
                  FROM runs WINDOW w AS (PARTITION BY model ORDER BY timestamp DESC, id))
            WHERE k % 1024 = 0;
        INSERT INTO run_chunks SELECT 'engine', engine, timestamp, id, MIN(1024, n - k)
            FROM (SELECT engine, timestamp, id, ROW_NUMBER() OVER w - 1 AS k,
                      COUNT(*) OVER (PARTITION BY engine) AS n
                  FROM runs WINDOW w AS (PARTITION BY engine ORDER BY timestamp DESC, id))
            WHERE k % 1024 = 0;
        INSERT INTO run_chunks SELECT 'suite_name', suite_name, timestamp, id, MIN(1024, n - k)
            FROM (SELECT suite_name, timestamp, id, ROW_NUMBER() OVER w - 1 AS k,
                      COUNT(*) OVER (PARTITION BY suite_name) AS n
                  FROM runs WINDOW w AS (PARTITION BY suite_name ORDER BY timestamp DESC, id))
            WHERE k % 1024 = 0;
        """
}
