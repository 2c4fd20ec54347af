import KittJSON
import KittSQLite

/// A stored web UI session: the hash of its id, its CSRF token and when it ends (Unix seconds).
public struct WebSessionRecord: Sendable, Equatable {
    public var idHash: String
    public var csrfToken: String
    public var expiresAt: Double

    public init(idHash: String, csrfToken: String, expiresAt: Double) {
        self.idHash = idHash
        self.csrfToken = csrfToken
        self.expiresAt = expiresAt
    }
}

/// The `web_sessions` table. Reads happen once at start (the UI keeps sessions in memory);
/// writes are group-committed and report back when durable.
extension Store {
    /// Every session still valid at `now` (expired rows are skipped, and deleted by `insert`).
    public func liveWebSessions(now: Double) throws -> [WebSessionRecord] {
        try database.read { connection in
            try connection.query(
                "SELECT id_hash, csrf_token, expires_at FROM web_sessions WHERE expires_at > ?", [.real(now)]
            ).compactMap { row in
                guard let hash = row.string(0), let csrf = row.string(1), let expires = row.double(2) else { return nil }
                return WebSessionRecord(idHash: hash, csrfToken: csrf, expiresAt: expires)
            }
        }
    }

    /// Stores a new session and drops expired ones in the same transaction.
    public func insertWebSession(
        _ record: WebSessionRecord, now: Double, completion: @escaping @Sendable (Result<Void, any Error>) -> Void
    ) {
        database.writeAsync({ connection in
            _ = try connection.run("DELETE FROM web_sessions WHERE expires_at <= ?", [.real(now)])
            _ = try connection.run(
                "INSERT OR REPLACE INTO web_sessions (id_hash, csrf_token, created_at, expires_at) VALUES (?, ?, ?, ?)",
                [.text(record.idHash), .text(record.csrfToken), .text(Timestamp.now()), .real(record.expiresAt)])
        }, completion: completion)
    }

    public func deleteWebSession(idHash: String, completion: @escaping @Sendable (Result<Void, any Error>) -> Void) {
        database.writeAsync({ connection in
            _ = try connection.run("DELETE FROM web_sessions WHERE id_hash = ?", [.text(idHash)])
        }, completion: completion)
    }
}
