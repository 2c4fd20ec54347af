import Dispatch
import Synchronization

/// A small pool of connections to one database: `withConnection` blocks until one of at
/// most `maximum` connections is free, opening them lazily. A connection that failed, or
/// comes back inside a transaction, is closed rather than reused, so one lost connection
/// (server restart, failover) costs one error, not a poisoned pool.
public final class PostgresPool: Sendable {
    public let info: ConnectionInfo
    public let maximum: Int
    private let slots: DispatchSemaphore
    private let idle = Mutex<[PostgresConnection]>([])

    public init(_ info: ConnectionInfo, maximum: Int = 8) {
        self.info = info
        self.maximum = max(1, maximum)
        self.slots = DispatchSemaphore(value: max(1, maximum))
    }

    /// Runs `body` with a connection of its own (blocking while all are in use).
    public func withConnection<T>(_ body: (PostgresConnection) throws -> T) throws -> T {
        slots.wait()
        defer { slots.signal() }
        let connection = try idle.withLock { $0.popLast() } ?? PostgresConnection(info)
        do {
            let value = try body(connection)
            giveBack(connection)
            return value
        } catch {
            giveBack(connection)
            throw error
        }
    }

    /// `withConnection` + `transaction`. Serialization failures and deadlocks (SQLSTATE
    /// 40001/40P01) retry the whole body, up to `retries` times.
    public func transaction<T>(
        isolation: PostgresConnection.Isolation = .readCommitted, retries: Int = 3,
        _ body: (PostgresConnection) throws -> T
    ) throws -> T {
        var attempt = 0
        while true {
            do {
                return try withConnection { try $0.transaction(isolation: isolation, body) }
            } catch let error as PostgresError where error.isRetryable && attempt < retries {
                attempt += 1
            }
        }
    }

    /// Connections currently idle in the pool (for tests and metrics).
    public var idleCount: Int { idle.withLock { $0.count } }

    public func close() {
        let connections = idle.withLock { pool -> [PostgresConnection] in
            defer { pool.removeAll() }
            return pool
        }
        for connection in connections { connection.close() }
    }

    private func giveBack(_ connection: PostgresConnection) {
        guard connection.isHealthy, !connection.isInTransaction else {
            connection.close()
            return
        }
        idle.withLock { $0.append(connection) }
    }
}
