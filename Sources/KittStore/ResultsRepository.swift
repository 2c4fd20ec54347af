import KittJSON
import KittSQLite

/// What `GET /results/` can filter on (exact matches).
public struct ResultFilter: Sendable, Hashable {
    public var model: String?
    public var engine: String?
    public var suiteName: String?

    public init(model: String? = nil, engine: String? = nil, suiteName: String? = nil) {
        self.model = model
        self.engine = engine
        self.suiteName = suiteName
    }
}

/// The columns results can be grouped by. The raw value is both the API name and the column.
public enum ResultGroup: String, Sendable, CaseIterable {
    case model
    case engine
    case suiteName = "suite_name"
}

extension ResultFilter {
    /// The list (`run_chunks`) this filter reads: every combination of columns has one.
    var list: ResultList {
        ResultList(
            [("model", model), ("engine", engine), ("suite_name", suiteName)].compactMap { column, value in
                value.map { ResultList.Filter(column: column, value: $0) }
            })
    }

    /// `" WHERE a = ? AND b = ?"` over the set columns (fixed fragments; values bound).
    var whereClause: (sql: String, bindings: [SQLiteValue]) {
        var conditions: [String] = []
        var bindings: [SQLiteValue] = []
        if let model { conditions.append("model = ?"); bindings.append(.text(model)) }
        if let engine { conditions.append("engine = ?"); bindings.append(.text(engine)) }
        if let suiteName { conditions.append("suite_name = ?"); bindings.append(.text(suiteName)) }
        return (conditions.isEmpty ? "" : " WHERE " + conditions.joined(separator: " AND "), bindings)
    }
}

/// Results: the metrics.json documents as sent, their indexed columns, benchmark rows and
/// one row per numeric metric, plus the summaries of schema v5 that every write keeps in
/// step (`ResultSummaryChanges`), so that reads cost O(groups) or O(page) at any size.
public struct ResultsRepository: Sendable {
    public let database: Database

    public init(database: Database) {
        self.database = database
    }

    // MARK: Writing

    /// Stores `document` under a new id (durable on return).
    @discardableResult
    public func insert(_ document: ResultDocument) throws -> String {
        try insertAll([document])[0]
    }

    /// Stores many documents in one transaction (durable on return); returns their ids in
    /// order. The batch API for bulk loaders (`kitt import`, `kitt migrate`): summaries are
    /// updated once per call, so batches of a few hundred are much cheaper than single
    /// inserts.
    public func insertAll(_ documents: [ResultDocument]) throws -> [String] {
        try database.write { connection in
            var children = ResultChildRows()
            let batch = StoreID.Batch()
            let ids = try documents.map { document in
                let id = batch.make()
                try ResultsRepository.insert(
                    document, text: String(decoding: document.bytes, as: UTF8.self), id: id, children: &children,
                    into: connection)
                return id
            }
            try children.write(into: connection)
            return ids
        }
    }

    /// Like `insertAll`, but a document whose exact run is already stored (see `contains`),
    /// or repeated earlier in `documents`, is not stored again: its slot is nil. The check
    /// and the inserts are one transaction, so concurrent loaders cannot both store a run.
    ///
    /// Foreign keys are not checked in this transaction: every benchmark, metric and
    /// hardware row it writes references the run it has just inserted (the checks were
    /// ~5% of an import).
    public func insertNew(_ documents: [ResultDocument]) throws -> [String?] {
        try database.write(checkingForeignKeys: false) { connection in
            // One transaction: one time stored for all (formatting it per result cost ~3%).
            let createdAt = Timestamp.now()
            // The batch's benchmark, metric and hardware rows are written together at its end,
            // many rows per statement.
            var children = ResultChildRows()
            let batch = StoreID.Batch()
            let ids = try documents.map { document -> String? in
                // The parser validated the bytes as UTF-8, so this keeps them exactly.
                let text = String(decoding: document.bytes, as: UTF8.self)
                if try ResultsRepository.contains(document, text: text, in: connection) { return nil }
                let id = batch.make()
                try ResultsRepository.insert(
                    document, text: text, id: id, createdAt: createdAt, children: &children, into: connection)
                return id
            }
            try children.write(into: connection)
            return ids
        }
    }

    /// Whether a run with exactly these bytes (and columns) is already stored.
    public func contains(_ document: ResultDocument) throws -> Bool {
        try database.read { connection in
            try ResultsRepository.contains(document, text: String(decoding: document.bytes, as: UTF8.self), in: connection)
        }
    }

    /// `text` is `document.bytes` as a String (callers that also insert make it once).
    static func contains(_ document: ResultDocument, text: String, in connection: Connection) throws -> Bool {
        try connection.queryOne(
            "SELECT 1 FROM runs WHERE model = ? AND timestamp = ? AND engine = ? AND document = ?",
            [.text(document.model), .text(document.timestamp), .text(document.engine), .text(text)]) != nil
    }

    /// The insert itself, for callers composing it into a larger transaction (agent
    /// reports). The run's child rows and the summaries are written before that
    /// transaction commits, together with those of the transaction's other runs.
    static func insert(_ document: ResultDocument, id: String, into connection: Connection) throws {
        try insert(
            document, text: String(decoding: document.bytes, as: UTF8.self), id: id,
            children: &connection.accumulator(PendingResultChildRows.self).rows, into: connection)
    }

    /// Inserts the run row; its benchmark, metric and hardware rows go to `children`, which
    /// the caller writes before anything reads them (same transaction). `text` is
    /// `document.bytes` as a String; `createdAt` the time stored (default now).
    static func insert(
        _ document: ResultDocument, text: String, id: String, createdAt: String = Timestamp.now(),
        children: inout ResultChildRows, into connection: Connection
    ) throws {
        try connection.run(
            """
            INSERT INTO runs (id, model, engine, suite_name, timestamp, passed, total_benchmarks,
                passed_count, failed_count, total_time_seconds, kitt_version, document, created_at)
            VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)
            """,
            [.text(id), .text(document.model), .text(document.engine), .text(document.suiteName),
             .text(document.timestamp), SQLiteValue(document.passed), SQLiteValue(document.totalBenchmarks),
             SQLiteValue(document.passedCount), SQLiteValue(document.failedCount),
             .real(document.totalTimeSeconds), .text(document.kittVersion), .text(text), .text(createdAt)])
        let totals = try children.add(document, run: connection.lastInsertRowID)
        connection.accumulator(ResultSummaryChanges.self).record(
            ResultSummaryChanges.Run(
                id: id, model: document.model, engine: document.engine, suiteName: document.suiteName,
                timestamp: document.timestamp),
            metrics: totals, sign: 1)
    }

    /// Deletes a run (its benchmarks and metrics go with it through schema v12's trigger,
    /// its hardware by cascade). False when unknown.
    public func delete(id: String) throws -> Bool {
        try database.write { connection in try ResultsRepository.delete(id: id, in: connection) }
    }

    /// `delete` through the group commit: `completion` (after COMMIT) gets whether it existed.
    public func delete(id: String, completion: @escaping @Sendable (Result<Bool, any Error>) -> Void) {
        database.writeAsync({ connection in try ResultsRepository.delete(id: id, in: connection) }, completion: completion)
    }

    static func delete(id: String, in connection: Connection) throws -> Bool {
        guard let row = try connection.queryOne(
            "SELECT rid, model, engine, suite_name, timestamp FROM runs WHERE id = ?", [.text(id)])
        else { return false }
        let rid = row.int64(0) ?? 0
        // Its child rows would be written after it is gone (and its metrics are not there to
        // subtract): a run is never deleted in the transaction that stores it.
        if connection.pendingAccumulators(PendingResultChildRows.self).contains(where: { $0.rows.runs.contains(rid) }) {
            throw ResultStoredInThisTransaction(id: id)
        }
        var metrics: [(name: String, count: Int, total: Double)] = []
        let ids = ResultChildIDs.range(run: rid)
        try connection.forEachRow(
            "SELECT name, COUNT(*), TOTAL(value) FROM metrics WHERE id >= ? AND id < ? GROUP BY name",
            [.integer(ids.lowerBound), .integer(ids.upperBound)]
        ) { metric in
            metrics.append((metric.string(0) ?? "", metric.int(1) ?? 0, metric.double(2) ?? 0))
        }
        try connection.run("DELETE FROM runs WHERE rid = ?", [row[0]])
        connection.accumulator(ResultSummaryChanges.self).record(
            ResultSummaryChanges.Run(
                id: id, model: row.string(1) ?? "", engine: row.string(2) ?? "", suiteName: row.string(3) ?? "",
                timestamp: row.string(4) ?? ""),
            metrics: metrics, sign: -1)
        return true
    }

    /// Results stored and deleted by this process since it started (committed), for metrics.
    public static var committedChanges: (stored: Int, deleted: Int) {
        (ResultSummaryChanges.stored.load(ordering: .relaxed), ResultSummaryChanges.deleted.load(ordering: .relaxed))
    }

    // MARK: Reading

    /// Runs `body` with one consistent snapshot of the results on one of the store's reader
    /// workers (never on the caller's thread); `completion` runs there with its value.
    public func readAsync<T: Sendable>(
        _ body: @escaping @Sendable (ResultsSnapshot) throws -> T,
        completion: @escaping @Sendable (Result<T, any Error>) -> Void
    ) {
        database.readAsync({ connection in try body(ResultsSnapshot(connection: connection)) }, completion: completion)
    }

    /// Changes when anything is committed to the database by any process (see
    /// `Database.dataVersion`): equal values mean the results did not change in between.
    public var dataVersion: Int { get throws { try database.dataVersion } }

    /// How many changes to results have been committed, by any process: a response computed
    /// from the results after reading this number is current for as long as it is unchanged.
    public func changeCount() throws -> Int {
        try database.read { connection in try ResultsRepository.changeCount(connection) }
    }

    static func changeCount(_ connection: Connection) throws -> Int {
        try connection.queryOne("SELECT changes FROM results_changes")?.int(0) ?? 0
    }

    /// One page, newest `timestamp` first (ties by id): the total matching and each item as
    /// the stored bytes with `"id"` spliced in front (never decoded).
    public func list(_ filter: ResultFilter, limit: Int, offset: Int) throws -> (total: Int, items: [RawJSON]) {
        try database.read { connection in try ResultsRepository.list(filter, limit: limit, offset: offset, in: connection) }
    }

    /// The total from the summaries; the page found through the list's chunks, so a deep
    /// page costs about as much as the first, with or without filters (keyset walk: no
    /// OFFSET beyond one chunk).
    static func list(_ filter: ResultFilter, limit: Int, offset: Int, in connection: Connection) throws
        -> (total: Int, items: [RawJSON])
    {
        let total = try count(filter, in: connection)
        var items: [RawJSON] = []
        guard offset < total, limit > 0 else { return (total, items) }
        items.reserveCapacity(min(limit, total - offset))
        let list = filter.list
        guard let (chunk, start) = try ResultListChunks.locate(connection, list, offset: offset) else {
            return (total, items)
        }
        try ResultListChunks.walk(
            connection, list, from: chunk, skip: offset - start, limit: limit, columns: "id, document"
        ) { row in
            items.append(ResultsRepository.item(row))
        }
        return (total, items)
    }

    /// Runs matching `filter`, from the summaries.
    static func count(_ filter: ResultFilter, in connection: Connection) throws -> Int {
        let list = filter.list
        if list.filters.count <= 1 {
            if list.kind.isEmpty {
                return try connection.queryOne(
                    "SELECT COALESCE(SUM(runs), 0) FROM result_groups WHERE kind = 'model'")?.int(0) ?? 0
            }
            return try connection.queryOne(
                "SELECT runs FROM result_groups WHERE kind = ? AND value = ?", [.text(list.kind), .text(list.value)]
            )?.int(0) ?? 0
        }
        let (clause, bindings) = filter.whereClause
        return try connection.queryOne("SELECT COALESCE(SUM(runs), 0) FROM result_sets" + clause, bindings)?.int(0) ?? 0
    }

    /// One result (document + id), or nil.
    public func get(id: String) throws -> RawJSON? {
        try database.read { connection in try ResultsRepository.get(ids: [id], in: connection).first }
    }

    /// The results among `ids` that exist, in the order asked (repeats kept).
    public func get(ids: [String]) throws -> [RawJSON] {
        try database.read { connection in try ResultsRepository.get(ids: ids, in: connection) }
    }

    /// One statement for all the ids (a compare asks for up to 1,000): the ids go in as one
    /// JSON array read by `json_each`, each looked up in the id index. A statement per id
    /// cost more in statement reuse than in the lookups. Each row comes back with its
    /// position in `ids`, so the order asked holds whatever order SQLite returns them in.
    static func get(ids: [String], in connection: Connection) throws -> [RawJSON] {
        if ids.isEmpty { return [] }
        var array: [UInt8] = [UInt8(ascii: "[")]
        for (index, id) in ids.enumerated() {
            if index > 0 { array.append(UInt8(ascii: ",")) }
            JSONWriter.writeString(id, into: &array)
        }
        array.append(UInt8(ascii: "]"))
        var found = [RawJSON?](repeating: nil, count: ids.count)
        try connection.forEachRow(
            "SELECT j.key, r.id, r.document FROM json_each(?) AS j JOIN runs AS r ON r.id = j.value",
            [.text(String(decoding: array, as: UTF8.self))]
        ) { row in
            if let index = row.int(0), found.indices.contains(index) { found[index] = ResultsRepository.item(row, from: 1) }
        }
        return found.compactMap { $0 }
    }

    /// One row of `aggregate`: a group's value, its runs and each asked metric's average
    /// (nil when no run of the group has that metric).
    public struct AggregateRow: Sendable, Equatable {
        public let value: String
        public let count: Int
        public let averages: [Double?]
    }

    /// Per value of `group`, ordered by value: the runs and, for each of `metrics` (repeats
    /// removed, first kept), the average over every metric row of that name in the group
    /// (as AVG over the metrics table). Read from the running totals: O(groups × metrics).
    public func aggregate(groupBy group: ResultGroup, metrics: [String]) throws -> (metrics: [String], rows: [AggregateRow]) {
        var unique: [String] = []
        for metric in metrics where !unique.contains(metric) { unique.append(metric) }
        let names = unique
        let rows = try database.read { connection in
            try ResultsRepository.aggregate(groupBy: group, metrics: names, in: connection)
        }
        return (names, rows)
    }

    static func aggregate(groupBy group: ResultGroup, metrics: [String], in connection: Connection) throws -> [AggregateRow] {
        let averages = metrics.indices.map { index in
            ", (SELECT t.total / t.count FROM metric_totals t WHERE t.kind = g.kind AND t.value = g.value"
                + " AND t.name = ?\(index + 2))"
        }.joined()
        let sql = "SELECT g.value, g.runs\(averages) FROM result_groups g WHERE g.kind = ?1 ORDER BY g.value"
        var rows: [AggregateRow] = []
        try connection.forEachRow(sql, [.text(group.rawValue)] + metrics.map { .text($0) }) { row in
            rows.append(
                AggregateRow(
                    value: row.string(0) ?? "", count: row.int(1) ?? 0,
                    averages: metrics.indices.map { row.double(2 + $0) }))
        }
        return rows
    }

    /// `{"id":"<id>",` + the stored document after its opening brace (its own `"id"`, if
    /// an old row has one, left out: a served object never carries a key twice).
    static func item(_ row: borrowing RowCursor, from column: Int = 0) -> RawJSON {
        let id = row.string(column) ?? ""
        return row.withUnsafeBytes(column + 1) { document in
            var bytes: [UInt8] = []
            bytes.reserveCapacity(document.count + 26)
            JSONSplice.appendObject(id: id, members: document, to: &bytes)
            return RawJSON(trusted: bytes)
        }
    }
}

/// The reads of `ResultsRepository` inside one read transaction (`readAsync`): every call
/// sees the same committed state.
public struct ResultsSnapshot {
    let connection: Connection

    public func changeCount() throws -> Int { try ResultsRepository.changeCount(connection) }

    public func list(_ filter: ResultFilter, limit: Int, offset: Int) throws -> (total: Int, items: [RawJSON]) {
        try ResultsRepository.list(filter, limit: limit, offset: offset, in: connection)
    }

    public func get(ids: [String]) throws -> [RawJSON] { try ResultsRepository.get(ids: ids, in: connection) }

    /// See `ResultsRepository.aggregate`; `metrics` must have no repeats.
    public func aggregate(groupBy group: ResultGroup, metrics: [String]) throws -> [ResultsRepository.AggregateRow] {
        try ResultsRepository.aggregate(groupBy: group, metrics: metrics, in: connection)
    }
}

extension Store {
    public var results: ResultsRepository { ResultsRepository(database: database) }
}
