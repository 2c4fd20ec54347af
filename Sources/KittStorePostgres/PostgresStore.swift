import KittStore
import KittPostgres
import KittSQLite

/// kitt's store on PostgreSQL (issue 15, in progress): a connection pool, the schema
/// migrated on open, and the repositories implemented so far. Blocking calls run on
/// `workers`, never on an event loop, as with the SQLite `Store`.
public final class PostgresStore: Sendable {
    public let pool: PostgresPool
    public let workers: WorkerPool

    /// Connects and applies `PostgresSchema.migrations` (under an advisory lock, so several
    /// instances may start at once). Errors name the URL with its password masked.
    public init(_ info: ConnectionInfo, connections: Int = 8) throws {
        pool = PostgresPool(info, maximum: connections)
        workers = WorkerPool(label: "kitt.pgstore.work", count: connections)
        do {
            try pool.withConnection { try $0.migrate(PostgresSchema.migrations) }
        } catch {
            pool.close()
            throw error
        }
    }

    public func close() { pool.close() }

    public var results: PostgresResultsRepository { PostgresResultsRepository(store: self) }
    public var agents: PostgresAgentRepository { PostgresAgentRepository(store: self) }
    public var events: PostgresEventLog { PostgresEventLog(store: self) }

    /// Runs `body` in a transaction on a worker; `completion` gets its value after COMMIT.
    func transactionAsync<T: Sendable>(
        _ body: @escaping @Sendable (PostgresConnection) throws -> T,
        completion: @escaping @Sendable (Result<T, any Error>) -> Void
    ) {
        workers.submit { [pool] in
            completion(Result { try pool.transaction(body) })
        }
    }
}
