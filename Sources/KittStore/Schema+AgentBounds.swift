import KittSQLite

extension Schema {
    /// Issue 9 (SPEC §7.2): tokens from nameless install.sh scripts wait here (hashed, with
    /// their creation time for the 24 h expiry) until their agent registers, instead of
    /// creating agent rows; `quick_tests.log_count`/`log_bytes` let the per-test log limits
    /// trim from the oldest line without counting the log on every append.
    public static let v7AgentBounds = Migration(
        version: 7, name: "install tokens and log counts",
        sql: """
            CREATE TABLE agent_install_tokens (
                token_hash TEXT PRIMARY KEY,
                port INTEGER NOT NULL DEFAULT 8090,
                created_at TEXT NOT NULL
            );
            CREATE INDEX agent_install_tokens_created ON agent_install_tokens(created_at);
            ALTER TABLE quick_tests ADD COLUMN log_count INTEGER NOT NULL DEFAULT 0;
            ALTER TABLE quick_tests ADD COLUMN log_bytes INTEGER NOT NULL DEFAULT 0;
            UPDATE quick_tests SET
                log_count = (SELECT COUNT(*) FROM quick_test_logs WHERE test_id = quick_tests.id),
                log_bytes = (SELECT COALESCE(SUM(length(CAST(line AS BLOB))), 0) FROM quick_test_logs
                             WHERE test_id = quick_tests.id);
            """)
}
