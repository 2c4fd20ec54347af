import KittSQLite

extension Schema {
    /// Web UI sign-in sessions (issue 14): kept in the database so a restart does not sign
    /// everyone out. Only the SHA-256 of the session id is stored (a leaked database file
    /// does not hand out live sessions); the CSRF token is useless without the cookie.
    public static let v11WebSessions = Migration(
        version: 11, name: "web sessions",
        sql: """
            CREATE TABLE web_sessions (
                id_hash TEXT PRIMARY KEY,
                csrf_token TEXT NOT NULL,
                created_at TEXT NOT NULL,
                expires_at REAL NOT NULL
            );
            CREATE INDEX web_sessions_expiry ON web_sessions(expires_at);
            """)
}
