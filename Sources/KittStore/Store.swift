#if canImport(Glibc)
import Glibc
#endif
import KittSQLite

/// kitt's database: one SQLite file behind repositories, so no SQL lives outside this module.
///
/// Concurrency (see KittSQLite.Database): one writer connection on a serial queue that
/// batches concurrent async writes into one transaction (group commit), and a pool of reader
/// connections that never wait for the writer (WAL).
public final class Store: Sendable {
    public let database: Database
    /// Where callers on an event loop send work that needs the store synchronously (route
    /// handlers not yet written against the async APIs): never the loop itself.
    public let workers: WorkerPool

    /// Every migration, in order. Never edit one that has shipped; add a new one.
    public static let migrations: [Migration] = [
        Schema.v1ResultsAndAgents,
        Schema.v2AggregateIndexes,
        Schema.v3ResultsByRowKey,
        Schema.v4EngineProfiles,
        Schema.v5ResultSummaries,
        Schema.v7AgentBounds,
        Schema.v9CombinedFilterLists,
        Schema.v11WebSessions,
        Schema.v12ResultChildrenByRun,
        Schema.v13AgentTokenIndex,
        Schema.v14ListHeads,
    ]

    /// At least as many readers as the server has event loops (one per core by default).
    public static let defaultReaderCount = max(4, Int(sysconf(Int32(_SC_NPROCESSORS_ONLN))))

    /// Throws `KITT1DatabaseError` when `path` is a KITT 1.x database: migrating it in place
    /// would fail on KITT's tables (and change its file); `kitt migrate` reads it instead.
    public init(
        path: String, synchronous: Synchronous = .full, readerCount: Int = Store.defaultReaderCount,
        checkpointPolicy: CheckpointPolicy = CheckpointPolicy()
    ) throws {
        try KITT1Database.refuseAsStore(path)
        do {
            database = try Database(
                path: path, readerCount: readerCount, synchronous: synchronous, checkpointPolicy: checkpointPolicy)
        } catch {
            throw StoreOpenError(path: path, underlying: error)
        }
        // Synchronous writes and reads wait here: a few more workers than readers so a
        // waiting write does not hold back every read.
        workers = WorkerPool(label: "kitt.store.work", count: readerCount + 2)
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
