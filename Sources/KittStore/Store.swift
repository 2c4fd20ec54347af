import KittSQLite

/// kitt's database: one SQLite file behind repositories, so no SQL lives outside this module.
///
/// Concurrency (see KittSQLite.Database): one writer connection on a serial queue that
/// batches concurrent async writes into one transaction (group commit), and a pool of reader
/// connections that never wait for the writer (WAL).
public final class Store: Sendable {
    public let database: Database

    /// Every migration, in order. Never edit one that has shipped; add a new one.
    public static let migrations: [Migration] = [
        Schema.v1ResultsAndAgents,
        Schema.v2AggregateIndexes,
        Schema.v3ResultsByRowKey,
        Schema.v4EngineProfiles,
        Schema.v7AgentBounds,
        Schema.v11WebSessions,
    ]

    public init(path: String, synchronous: Synchronous = .full) throws {
        do {
            database = try Database(path: path, readerCount: 4, synchronous: synchronous)
        } catch {
            throw StoreOpenError(path: path, underlying: error)
        }
        do {
            try database.migrate(Store.migrations)
        } catch let error as SQLiteError {
            // "file is not a database" only surfaces at the first statement.
            database.close()
            throw StoreOpenError(path: path, underlying: error)
        }
    }

    public func close() {
        database.close()
    }
}
