import KittStore
import KittJSON
import KittPostgres

/// The `web_sessions` table on PostgreSQL, as `Store`'s (so a session signed in through one
/// instance is valid on every instance that loads sessions after it).
extension PostgresStore: WebSessionStoring {
    public func liveWebSessions(now: Double) throws -> [WebSessionRecord] {
        try pool.withConnection { connection in
            try connection.query(
                "SELECT id_hash, csrf_token, expires_at FROM web_sessions WHERE expires_at > $1", [.double(now)]
            ).rows.compactMap { row in
                guard let hash = row.string(0), let csrf = row.string(1), let expires = row.double(2) else { return nil }
                return WebSessionRecord(idHash: hash, csrfToken: csrf, expiresAt: expires)
            }
        }
    }

    public func insertWebSession(
        _ record: WebSessionRecord, now: Double, completion: @escaping @Sendable (Result<Void, any Error>) -> Void
    ) {
        transactionAsync({ connection in
            try connection.run("DELETE FROM web_sessions WHERE expires_at <= $1", [.double(now)])
            try connection.run(
                """
                INSERT INTO web_sessions (id_hash, csrf_token, created_at, expires_at) VALUES ($1, $2, $3, $4)
                ON CONFLICT (id_hash) DO UPDATE SET csrf_token = excluded.csrf_token,
                    created_at = excluded.created_at, expires_at = excluded.expires_at
                """,
                [.text(record.idHash), .text(record.csrfToken), .text(Timestamp.now()), .double(record.expiresAt)])
        }, completion: completion)
    }

    public func deleteWebSession(idHash: String, completion: @escaping @Sendable (Result<Void, any Error>) -> Void) {
        transactionAsync({ connection in
            try connection.run("DELETE FROM web_sessions WHERE id_hash = $1", [.text(idHash)])
        }, completion: completion)
    }
}
