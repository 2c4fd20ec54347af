import KittStore
import KittPostgres
import Synchronization

/// Ownership of named work (a campaign run) across kitt instances on one database (issue 15,
/// building block; the campaign runner does not use it yet): a session-level advisory lock
/// per name, held on one dedicated connection. Exactly one instance holds a name at a time;
/// when the holding instance dies (or its connection drops), PostgreSQL ends the session and
/// frees its locks, so another instance's next `tryAcquire` takes the work over.
///
/// Names are hashed into the lock key (`hashtext`), so two different names can collide; the
/// cost is that those two campaigns never run at the same time, never that one runs twice.
public final class PostgresLeases: Sendable {
    private struct State {
        var connection: PostgresConnection?
        var held: Set<String> = []
    }
    private let info: ConnectionInfo
    private let state = Mutex(State())
    /// The first key of the two-int advisory lock form: kitt's campaign leases ("kc").
    static let namespace: Int32 = 0x6B63

    public init(_ info: ConnectionInfo) {
        self.info = info
    }

    /// Takes `name` if no instance holds it (true), or reports it held elsewhere (false).
    /// Holding it already is true. Never waits.
    public func tryAcquire(_ name: String) throws -> Bool {
        try state.withLock { state in
            if state.held.contains(name), state.connection?.isHealthy == true { return true }
            let connection = try self.connection(&state)
            let taken = try connection.queryOne(
                "SELECT pg_try_advisory_lock($1, hashtext($2))", [.integer(Int64(Self.namespace)), .text(name)]
            )?.bool(0) == true
            if taken { state.held.insert(name) }
            return taken
        }
    }

    /// Gives `name` up (another instance may take it at once).
    public func release(_ name: String) throws {
        try state.withLock { state in
            guard state.held.remove(name) != nil, let connection = state.connection, connection.isHealthy else { return }
            try connection.query(
                "SELECT pg_advisory_unlock($1, hashtext($2))", [.integer(Int64(Self.namespace)), .text(name)])
        }
    }

    /// The names this instance still holds, after asking the server that the session is
    /// alive: empty once the connection is gone (the work must stop: another instance may
    /// already have it).
    public func verifiedHeld() -> Set<String> {
        state.withLock { state in
            guard let connection = state.connection, (try? connection.query("SELECT 1")) != nil else {
                state.connection?.close()
                state.connection = nil
                state.held = []
                return []
            }
            return state.held
        }
    }

    /// The backend serving the leases (tests end it to model a dead instance).
    public var backendPID: Int32 { state.withLock { $0.connection?.backendPID ?? 0 } }

    public func close() {
        state.withLock { state in
            state.connection?.close()
            state.connection = nil
            state.held = []
        }
    }

    /// The lease connection, reopened when lost (which also means every lease was lost).
    private func connection(_ state: inout State) throws -> PostgresConnection {
        if let connection = state.connection, connection.isHealthy { return connection }
        state.connection?.close()
        state.held = []
        let fresh = try PostgresConnection(info)
        state.connection = fresh
        return fresh
    }
}
