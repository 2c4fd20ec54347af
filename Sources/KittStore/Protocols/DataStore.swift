import KittJSON
import KittSQLite

/// kitt's store, whichever database holds it (issue 15): SQLite in the data directory
/// (`Store`, the default) or PostgreSQL (`PostgresStore`, `kitt web --database`). The API,
/// the web UI and the campaign runner see only this, so both backends serve the same routes.
///
/// Blocking calls run on `workers` (or through the repositories' completion-style calls),
/// never on an event loop.
public protocol DataStore: AnyObject, WebSessionStoring {
    associatedtype Agents: AgentStoring & AgentAdministering
    associatedtype Results: ResultsReading
    associatedtype Campaigns: CampaignStoring
    associatedtype QuickTests: QuickTestStoring
    associatedtype EngineProfiles: EngineProfileStoring

    var agents: Agents { get }
    var results: Results { get }
    var campaigns: Campaigns { get }
    var quickTests: QuickTests { get }
    var engineProfiles: EngineProfiles { get }
    /// Where synchronous store work runs (never an event loop, never the cooperative pool).
    var workers: WorkerPool { get }
    /// Agents, quick tests and campaigns by status and the number of results (`GET /metrics`).
    func statusCounts(offlineCutoff: String) throws -> StatusCounts
    /// One trivial query: throws when the database does not answer (`GET /api/v1/ready`).
    func ping() throws
    /// What the store is, for logs and `/metrics` (`sqlite`, `postgresql`).
    var backendName: String { get }
    /// Makes everything committed so far durable, for a bulk loader that opened the store
    /// without a sync per commit (`kitt import` on SQLite, `Synchronous.normal`). A no-op
    /// where every commit is durable already.
    func syncToDisk() throws
    func close()
}

/// The reads of one results response (a list page, an aggregate, compare). On SQLite they
/// share one read transaction; on PostgreSQL each runs in its own snapshot, which the results
/// cache tolerates: the change count is read first, so a response is at least that new.
public protocol ResultsSnapshotReading {
    func changeCount() throws -> Int
    func list(_ filter: ResultFilter, limit: Int, offset: Int) throws -> (total: Int, items: [RawJSON])
    func get(ids: [String]) throws -> [RawJSON]
    /// `metrics` must have no repeats.
    func aggregate(groupBy group: ResultGroup, metrics: [String]) throws -> [ResultsRepository.AggregateRow]
}

/// What the results routes need beyond `ResultsStoring`: reads off the caller's thread and a
/// durable delete with a completion.
public protocol ResultsReading: ResultsStoring {
    /// Runs `body` on a store worker; `completion` gets its value there.
    func readSnapshot<T: Sendable>(
        _ body: @escaping @Sendable (any ResultsSnapshotReading) throws -> T,
        completion: @escaping @Sendable (Result<T, any Error>) -> Void)
    /// Cheap "did anything change" check that is read before a cached response is trusted:
    /// equal values mean nothing was committed in between (on SQLite `PRAGMA data_version`;
    /// elsewhere the change count itself).
    var dataVersion: Int { get throws }
    func delete(id: String, completion: @escaping @Sendable (Result<Bool, any Error>) -> Void)
}

extension DataStore {
    /// Runs synchronous store work on the store's worker pool and hands its outcome to
    /// `completion`. Debug builds trap if SQLite work ever runs on a loop thread
    /// (`Database.read`/`write` assert it), so a service method that forgot to come through
    /// here fails every test that calls it.
    public func perform<T: Sendable>(
        _ work: @escaping @Sendable () throws -> T, completion: @escaping @Sendable (Result<T, any Error>) -> Void
    ) {
        workers.submit { completion(Result { try work() }) }
    }
}
