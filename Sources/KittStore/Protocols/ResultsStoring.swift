import KittJSON

/// What every results backend offers (issue 15: one interface, SQLite and PostgreSQL).
/// Writes are durable when they return (a 2xx means committed). Items are the stored
/// document bytes with `"id"` spliced in front, identical on both backends.
public protocol ResultsStoring: Sendable {
    /// Stores `document` under a new id; returns the id.
    func insert(_ document: ResultDocument) throws -> String
    /// Stores many documents in one transaction; their ids in order.
    func insertAll(_ documents: [ResultDocument]) throws -> [String]
    /// Like `insertAll`, but a document whose exact run is stored already (or repeated
    /// earlier in `documents`) is not stored again: its slot is nil.
    func insertNew(_ documents: [ResultDocument]) throws -> [String?]
    /// Whether a run with exactly these bytes (and columns) is stored.
    func contains(_ document: ResultDocument) throws -> Bool
    func get(id: String) throws -> RawJSON?
    /// The results among `ids` that exist, in the order asked (repeats kept).
    func get(ids: [String]) throws -> [RawJSON]
    /// One page, newest `timestamp` first (ties by id), and the total matching `filter`.
    func list(_ filter: ResultFilter, limit: Int, offset: Int) throws -> (total: Int, items: [RawJSON])
    /// Per value of `group` (ordered by value, bytewise): runs and each metric's average.
    func aggregate(groupBy group: ResultGroup, metrics: [String]) throws
        -> (metrics: [String], rows: [ResultsRepository.AggregateRow])
    /// Deletes a run and everything under it; false when unknown.
    func delete(id: String) throws -> Bool
    /// Moves whenever results change (by any process or instance), for response caches.
    func changeCount() throws -> Int
}
