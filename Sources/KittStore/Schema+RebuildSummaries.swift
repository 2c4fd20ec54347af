import KittSQLite

extension Schema {
    /// The tables kitt derives from `runs` and `metrics` (v5, v9) and keeps in step on every
    /// result write. A bulk copy into an empty store (`kitt migrate --from`) writes the base
    /// rows only and then calls `rebuildResultSummaries`.
    public static let resultSummaryTables = [
        "result_groups", "metric_totals", "result_sets", "run_chunks", "run_chunk_heads",
    ]

    /// Recomputes every summary from `runs` and `metrics` with the migrations' own backfills
    /// (v5 and v9), inside the caller's write transaction, so the store answers lists,
    /// totals and aggregates as if each result had been stored through the repository.
    /// Bumps `results_changes`: response caches of any process see the change.
    /// First puts the copied benchmark and metric rows into their runs' id ranges (v12,
    /// `renumberResultChildren`).
    public static func rebuildResultSummaries(_ connection: Connection) throws {
        try renumberResultChildren(connection)
        for table in resultSummaryTables {
            try connection.execute("DELETE FROM \(table)")
        }
        try connection.execute(resultSummariesBackfill)
        try connection.execute(combinedFilterListsBackfill)
        try connection.run("UPDATE results_changes SET changes = changes + 1")
    }
}
