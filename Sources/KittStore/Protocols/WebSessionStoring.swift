/// Web UI sessions on either backend (issue 15). Writes report back when durable.
public protocol WebSessionStoring: Sendable {
    /// Every session still valid at `now` (Unix seconds).
    func liveWebSessions(now: Double) throws -> [WebSessionRecord]
    /// Stores (or replaces) a session and drops expired ones in the same transaction.
    func insertWebSession(
        _ record: WebSessionRecord, now: Double, completion: @escaping @Sendable (Result<Void, any Error>) -> Void)
    func deleteWebSession(idHash: String, completion: @escaping @Sendable (Result<Void, any Error>) -> Void)
}
