#if canImport(Glibc)
import Glibc
#endif
import KittBase
import KittNet
import KittStore
import Synchronization

/// Signed-in browser sessions. The table (`web_sessions`) is the durable copy, read once at
/// start; lookups are served from memory so no request waits on the database. A session is
/// only handed out after its row is committed, so it survives a restart.
public final class WebSessions: Sendable {
    public struct Session: Sendable, Equatable {
        public let csrfToken: String
        public let expiresAt: Double
    }

    /// A freshly made session: the cookie value (never stored) and its CSRF token.
    public struct Issued: Sendable {
        public let id: String
        public let csrfToken: String
        public let lifetime: Double
    }

    public let lifetime: Double
    private let store: (any WebSessionStoring)?
    private let clock: @Sendable () -> Double
    private let sessions: Mutex<[String: Session]>

    /// `store` nil keeps sessions in memory only (tests). Loads the live sessions from the store.
    public init(store: (any WebSessionStoring)?, lifetime: Double = 7 * 86_400, clock: @escaping @Sendable () -> Double = WebSessions.now)
        throws
    {
        self.store = store
        self.lifetime = lifetime
        self.clock = clock
        var loaded: [String: Session] = [:]
        for record in try store?.liveWebSessions(now: clock()) ?? [] {
            loaded[record.idHash] = Session(csrfToken: record.csrfToken, expiresAt: record.expiresAt)
        }
        sessions = Mutex(loaded)
    }

    /// Several instances on one database: replaces the sessions in memory with the live ones
    /// stored, so a sign-in or sign-out through another instance takes effect here too.
    /// Blocking (a store read): call it from a background queue, never an event loop.
    public func reload() throws {
        guard let store else { return }
        var loaded: [String: Session] = [:]
        for record in try store.liveWebSessions(now: clock()) {
            loaded[record.idHash] = Session(csrfToken: record.csrfToken, expiresAt: record.expiresAt)
        }
        // A session made here in the last seconds may not have been in that read yet: kept.
        let recent = clock() - lifetime + 10
        sessions.withLock { table in
            for (hash, session) in table where loaded[hash] == nil && session.expiresAt > recent {
                loaded[hash] = session
            }
            table = loaded
        }
    }

    public var count: Int { sessions.withLock { $0.count } }

    /// Makes a session; `completion` gets it once it is durable (from the store's queue).
    public func create(completion: @escaping @Sendable (Result<Issued, any Error>) -> Void) {
        let id = WebSessions.randomToken()
        let csrf = WebSessions.randomToken()
        let now = clock()
        let session = Session(csrfToken: csrf, expiresAt: now + lifetime)
        let hash = SHA256.hex(id)
        let issued = Issued(id: id, csrfToken: csrf, lifetime: lifetime)
        // Expired sessions go when a new one is made (the store drops their rows in the same write).
        sessions.withLock { table in table = table.filter { $0.value.expiresAt > now } }
        guard let store else {
            sessions.withLock { $0[hash] = session }
            completion(.success(issued))
            return
        }
        store.insertWebSession(
            WebSessionRecord(idHash: hash, csrfToken: csrf, expiresAt: session.expiresAt), now: now
        ) { result in
            switch result {
            case .success:
                self.sessions.withLock { $0[hash] = session }
                completion(.success(issued))
            case .failure(let error):
                completion(.failure(error))
            }
        }
    }

    /// The live session for a cookie value, or nil (unknown or expired; expired ones are forgotten).
    public func session(id: String) -> Session? {
        guard !id.isEmpty else { return nil }
        let hash = SHA256.hex(id)
        let now = clock()
        return sessions.withLock { table in
            guard let session = table[hash] else { return nil }
            if session.expiresAt <= now {
                table[hash] = nil
                return nil
            }
            return session
        }
    }

    /// Ends a session at once (memory first, so it stops working before the row is gone).
    public func end(id: String, completion: @escaping @Sendable () -> Void) {
        let hash = SHA256.hex(id)
        sessions.withLock { $0[hash] = nil }
        guard let store else { return completion() }
        store.deleteWebSession(idHash: hash) { _ in completion() }
    }

    /// A live session as the settings page lists it: `handle` (the stored hash, never the
    /// cookie value) revokes it; `current` marks the asking browser's own.
    public struct Listed: Sendable, Equatable {
        public let handle: String
        public let signedInAt: Double
        public let expiresAt: Double
        public let current: Bool
    }

    /// Every live session, newest first; `currentID` is the asking browser's cookie value.
    public func list(currentID: String?) -> [Listed] {
        let now = clock()
        let current = currentID.map { SHA256.hex($0) }
        return sessions.withLock { table in
            table.filter { $0.value.expiresAt > now }.map { hash, session in
                Listed(handle: hash, signedInAt: session.expiresAt - lifetime, expiresAt: session.expiresAt,
                    current: hash == current)
            }
        }.sorted { $0.signedInAt > $1.signedInAt }
    }

    /// Ends the sessions whose handles are given (all of them when nil), in memory at once;
    /// `completion` gets how many were live, once their rows are gone.
    public func end(handles: [String]?, completion: @escaping @Sendable (Int) -> Void) {
        let ended = sessions.withLock { table -> [String] in
            let chosen = handles.map { wanted in wanted.filter { table[$0] != nil } } ?? Array(table.keys)
            for hash in chosen { table[hash] = nil }
            return chosen
        }
        guard let store, !ended.isEmpty else { return completion(ended.count) }
        let left = Mutex(ended.count)
        for hash in ended {
            store.deleteWebSession(idHash: hash) { _ in
                if left.withLock({ count -> Bool in count -= 1; return count == 0 }) { completion(ended.count) }
            }
        }
    }

    /// 256 bits from the system CSPRNG, as 64 hex characters.
    public static func randomToken() -> String { SecureRandom.hex(bytes: 32) }

    public static func now() -> Double {
        var spec = timespec()
        clock_gettime(CLOCK_REALTIME, &spec)
        return Double(spec.tv_sec) + Double(spec.tv_nsec) / 1e9
    }
}
