import KittSQLite

extension Schema {
    /// List pages with two or three filters combined (model+engine, model+suite_name,
    /// engine+suite_name, all three) found through chunks like the single-column lists of
    /// v5, instead of OFFSET over one column's index (linear in the depth: 180 ms at offset
    /// 999,000).
    ///
    /// - One index per pair of columns, in list order, so walking inside a chunk of a
    ///   combined list steps only over its own runs. The (model, engine) one also holds
    ///   `suite_name`, so the three-column filter walks it checking the suite inside the
    ///   index (no row read per skipped run) rather than needing a fourth index: every
    ///   index is one more B-tree insert per stored result.
    /// - `run_chunks` gets the four combined lists of every run; `kind` is the columns
    ///   joined by "+" and `value` each value as `<UTF-8 length>:<value>` (`ResultList`).
    public static let v9CombinedFilterLists = Migration(
        version: 9, name: "list chunks and indexes for combined filters",
        sql: """
            CREATE INDEX runs_model_engine_time ON runs(model, engine, timestamp DESC, id, suite_name);
            CREATE INDEX runs_model_suite_time ON runs(model, suite_name, timestamp DESC, id);
            CREATE INDEX runs_engine_suite_time ON runs(engine, suite_name, timestamp DESC, id);
            \(combinedFilterListsBackfill)
            """)

    /// Fills `run_chunks` for the four combined lists from `runs` (none of their chunks may
    /// exist yet): the migration's backfill, and part of `rebuildResultSummaries`.
    static var combinedFilterListsBackfill: String {
        [["model", "engine"], ["model", "suite_name"], ["engine", "suite_name"], ["model", "engine", "suite_name"]]
            .map(combinedChunks).joined(separator: "\n")
    }

    /// Every 1024th run of each list of `columns` starts a chunk (as v5 did for one column).
    private static func combinedChunks(_ columns: [String]) -> String {
        let value = columns.map { "length(CAST(\($0) AS BLOB)) || ':' || \($0)" }.joined(separator: " || ")
        let partition = columns.joined(separator: ", ")
        return """
            INSERT INTO run_chunks SELECT '\(columns.joined(separator: "+"))', v, timestamp, id, MIN(1024, n - k)
                FROM (SELECT \(value) AS v, timestamp, id, ROW_NUMBER() OVER w - 1 AS k,
                          COUNT(*) OVER (PARTITION BY \(partition)) AS n
                      FROM runs WINDOW w AS (PARTITION BY \(partition) ORDER BY timestamp DESC, id))
                WHERE k % 1024 = 0;
            """
    }
}
