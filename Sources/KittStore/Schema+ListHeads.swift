import KittSQLite

extension Schema {
    /// The head chunk of each list (the runs newer than its newest chunk key) gets its own
    /// small table: `run_chunk_heads`, one row per list. In `run_chunks` each list's head row
    /// sat at the start of that list's range, so the heads of a batch's lists were on as many
    /// pages as lists: a group commit of ~10 agents' reports rewrote ~30 pages of
    /// `run_chunks` (a third of the pages it wrote to the WAL) to add 1 to ~40 head counts.
    /// Here all heads fit on a few pages. `run_chunks` keeps only chunks keyed by a run.
    public static let v14ListHeads = Migration(
        version: 14, name: "list heads in their own table",
        sql: """
            CREATE TABLE run_chunk_heads (
                kind TEXT NOT NULL,
                value TEXT NOT NULL,
                count INTEGER NOT NULL,
                PRIMARY KEY (kind, value)
            ) WITHOUT ROWID;
            INSERT INTO run_chunk_heads SELECT kind, value, count FROM run_chunks WHERE ts = x'';
            DELETE FROM run_chunks WHERE ts = x'';
            UPDATE results_changes SET changes = changes + 1;
            """)
}
