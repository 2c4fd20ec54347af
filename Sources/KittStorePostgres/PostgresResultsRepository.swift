import KittStore
import KittJSON
import KittPostgres

/// Results on PostgreSQL: the same rows as `ResultsRepository` (runs, benchmarks, one row
/// per numeric metric, hardware), the document kept byte for byte. Counts and averages come
/// from running totals that writers only append to (`PostgresResultTotals`).
public struct PostgresResultsRepository: ResultsStoring {
    let store: PostgresStore

    @discardableResult
    public func insert(_ document: ResultDocument) throws -> String {
        try insertAll([document])[0]
    }

    public func insertAll(_ documents: [ResultDocument]) throws -> [String] {
        let ids = try store.pool.transaction { connection in
            try documents.map { document in
                let id = StoreID.make()
                try PostgresResultsRepository.insert(document, id: id, into: connection)
                return id
            }
        }
        PostgresResultsRepository.countChange(store.pool)
        return ids
    }

    /// The check and the insert hold a transaction lock on the run's (model, timestamp,
    /// engine), so two loaders on two instances cannot both store the same run.
    public func insertNew(_ documents: [ResultDocument]) throws -> [String?] {
        let ids = try store.pool.transaction { connection in
            try documents.map { document -> String? in
                try connection.query(
                    "SELECT pg_advisory_xact_lock(hashtextextended($1 || chr(1) || $2 || chr(1) || $3, 0))",
                    [.text(document.model), .text(document.timestamp), .text(document.engine)])
                if try PostgresResultsRepository.contains(document, connection) { return nil }
                let id = StoreID.make()
                try PostgresResultsRepository.insert(document, id: id, into: connection)
                return id
            }
        }
        if ids.contains(where: { $0 != nil }) { PostgresResultsRepository.countChange(store.pool) }
        return ids
    }

    public func contains(_ document: ResultDocument) throws -> Bool {
        try store.pool.withConnection { try PostgresResultsRepository.contains(document, $0) }
    }

    static func contains(_ document: ResultDocument, _ connection: PostgresConnection) throws -> Bool {
        try connection.queryOne(
            "SELECT 1 FROM runs WHERE model = $1 AND timestamp = $2 AND engine = $3 AND document = $4",
            [.text(document.model), .text(document.timestamp), .text(document.engine),
             .text(String(decoding: document.bytes, as: UTF8.self))]) != nil
    }

    // MARK: Change count (response caches on every instance)

    /// How many changes to results have been counted. Bumped right after each write commits,
    /// so a response computed in a snapshot that read N includes every change counted up to
    /// N, and any later change moves the count. A process dying between its COMMIT and the
    /// bump leaves caches stale until the next write.
    ///
    /// A sequence (schema v7), not a row: `nextval` takes no row lock, so writers on every
    /// instance never queue on it (a counter row did: two instances wrote slower than one).
    public func changeCount() throws -> Int {
        try store.pool.withConnection { try PostgresResultsRepository.changeCount($0) }
    }

    static func changeCount(_ connection: PostgresConnection) throws -> Int {
        // `is_called` is false until the first nextval: count that as the step from 0 to 1.
        try connection.queryOne(
            "SELECT last_value + CASE WHEN is_called THEN 1 ELSE 0 END FROM results_change_count")?.int(0) ?? 0
    }

    /// The bump itself: one round trip, no transaction, never an error for the write it
    /// follows, which has committed. Every `PostgresResultTotals.writesPerCompaction`th also
    /// folds the running totals.
    static func countChange(_ pool: PostgresPool) {
        _ = try? pool.withConnection { try $0.query("SELECT nextval('results_change_count')") }
        PostgresResultTotals.wrote(pool)
    }

    /// The insert itself, for callers composing it into a larger transaction.
    static func insert(_ document: ResultDocument, id: String, into connection: PostgresConnection) throws {
        let text = String(decoding: document.bytes, as: UTF8.self)
        let run = try connection.queryOne(
            """
            INSERT INTO runs (id, model, engine, suite_name, timestamp, passed, total_benchmarks,
                passed_count, failed_count, total_time_seconds, kitt_version, document, created_at)
            VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13) RETURNING rid
            """,
            [.text(id), .text(document.model), .text(document.engine), .text(document.suiteName),
             .text(document.timestamp), .bool(document.passed), PostgresValue(document.totalBenchmarks),
             PostgresValue(document.passedCount), PostgresValue(document.failedCount),
             .double(document.totalTimeSeconds), .text(document.kittVersion), .text(text),
             .text(Timestamp.now())]
        )?.int64(0)
        guard let run else { throw PostgresError(sqlState: "", message: "INSERT INTO runs returned no rid") }
        var metricRows: [PostgresValue] = []
        for benchmark in document.benchmarks {
            let benchmarkID = try connection.queryOne(
                """
                INSERT INTO benchmarks (run, test_name, test_version, run_number, passed)
                VALUES ($1, $2, $3, $4, $5) RETURNING id
                """,
                [.integer(run), .text(benchmark.testName), .text(benchmark.testVersion),
                 PostgresValue(benchmark.runNumber), .bool(benchmark.passed)]
            )?.int64(0)
            guard let benchmarkID else { throw PostgresError(sqlState: "", message: "INSERT INTO benchmarks returned no id") }
            for metric in benchmark.metrics {
                metricRows += [.integer(run), .integer(benchmarkID), .text(metric.name), .double(metric.value)]
            }
        }
        try insertMetricRows(metricRows, into: connection)
        try PostgresResultTotals.record([PostgresResultTotals.contribution(of: document)], sign: 1, connection)
        if let hardware = document.hardware {
            try connection.run(
                """
                INSERT INTO hardware (run, gpu_model, gpu_vram_gb, gpu_count, cpu_model, cpu_cores,
                    ram_gb, environment_type, fingerprint)
                VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9)
                """,
                [.integer(run), PostgresValue(hardware.gpuModel), PostgresValue(hardware.gpuVRAMGB),
                 PostgresValue(hardware.gpuCount), PostgresValue(hardware.cpuModel), PostgresValue(hardware.cpuCores),
                 PostgresValue(hardware.ramGB), PostgresValue(hardware.environmentType),
                 PostgresValue(hardware.fingerprint)])
        }
    }

    /// Metric rows per multi-row INSERT (a round trip costs more than a row).
    private static let metricRowsPerStatement = 64

    private static func insertMetricRows(_ values: [PostgresValue], into connection: PostgresConnection) throws {
        let perStatement = 4 * metricRowsPerStatement
        var start = 0
        while start < values.count {
            let end = min(values.count, start + perStatement)
            let rows = (end - start) / 4
            let tuples = (0..<rows).map { r in
                "($\(4 * r + 1), $\(4 * r + 2), $\(4 * r + 3), $\(4 * r + 4))"
            }.joined(separator: ", ")
            try connection.run(
                "INSERT INTO metrics (run, benchmark_id, name, value) VALUES " + tuples, Array(values[start..<end]))
            start = end
        }
    }

    public func delete(id: String) throws -> Bool {
        guard PostgresResultsRepository.canBeStored(id) else { return false }
        let deleted = try store.pool.transaction { connection -> Bool in
            guard let contribution = try PostgresResultTotals.contribution(ofRunID: id, connection) else { return false }
            try PostgresResultTotals.record([contribution], sign: -1, connection)
            return try connection.run("DELETE FROM runs WHERE id = $1", [.text(id)]) > 0
        }
        if deleted { PostgresResultsRepository.countChange(store.pool) }
        return deleted
    }

    // MARK: Reading

    public func get(id: String) throws -> RawJSON? { try get(ids: [id]).first }

    public func get(ids: [String]) throws -> [RawJSON] {
        guard !ids.isEmpty else { return [] }
        return try store.pool.withConnection { connection in
            var out: [RawJSON] = []
            for id in ids where PostgresResultsRepository.canBeStored(id) {
                if let row = try connection.queryOne("SELECT id, document FROM runs WHERE id = $1", [.text(id)]) {
                    out.append(PostgresResultsRepository.item(row))
                }
            }
            return out
        }
    }

    public func list(_ filter: ResultFilter, limit: Int, offset: Int) throws -> (total: Int, items: [RawJSON]) {
        let (clause, bindings) = PostgresResultsRepository.whereClause(filter)
        guard bindings.allSatisfy(PostgresResultsRepository.canBeStored) else { return (0, []) }
        // One snapshot for the count and the page, so the total matches the items.
        return try store.pool.transaction(isolation: .repeatableRead) { connection in
            let total = try PostgresResultsRepository.total(filter, clause: clause, bindings: bindings, connection)
            guard limit > 0, offset < total else { return (total, []) }
            let n = bindings.count
            // The page's ids first, from the (filter, timestamp, id) index alone (an index-only
            // scan skips `offset` entries without reading their rows), then their documents.
            let rows = try connection.query(
                "SELECT r.id, r.document FROM (SELECT id, timestamp FROM runs\(clause)"
                    + " ORDER BY timestamp DESC, id LIMIT $\(n + 1) OFFSET $\(n + 2)) page"
                    + " JOIN runs r ON r.id = page.id ORDER BY page.timestamp DESC, page.id",
                bindings + [PostgresValue(max(0, limit)), PostgresValue(max(0, offset))]
            ).rows
            return (total, rows.map(PostgresResultsRepository.item))
        }
    }

    public func aggregate(groupBy group: ResultGroup, metrics: [String]) throws
        -> (metrics: [String], rows: [ResultsRepository.AggregateRow])
    {
        var unique: [String] = []
        for metric in metrics where !unique.contains(metric) { unique.append(metric) }
        let names = unique
        // From the running totals (`PostgresResultTotals`): O(groups), in one snapshot.
        let rows = try store.pool.transaction(isolation: .repeatableRead) { connection in
            let groups = try PostgresResultTotals.groups(group.rawValue, connection)
            // A name with NUL names no stored metric (its average is null): it is not sent.
            let totals = try PostgresResultTotals.metricTotals(
                group.rawValue, names: names.filter(PostgresResultsRepository.canBeStored), connection)
            return groups.map { group in
                ResultsRepository.AggregateRow.stored(
                    value: group.value, count: group.runs,
                    // An average over +inf and -inf is NaN: shown as null, as SQLite stores NaN.
                    averages: names.map { name in
                        guard let metric = totals[group.value]?[name], metric.count > 0, let sum = metric.total
                        else { return nil }
                        let average = sum / Double(metric.count)
                        return average.isNaN ? nil : average
                    })
            }
        }
        return (names, rows)
    }

    /// PostgreSQL text cannot hold NUL (libpq refuses such a parameter), so no stored id or
    /// column has one: a lookup by such text finds nothing, as on SQLite, rather than failing.
    static func canBeStored(_ text: String) -> Bool { !text.utf8.contains(0) }

    static func canBeStored(_ value: PostgresValue) -> Bool {
        guard case .text(let text) = value else { return true }
        return canBeStored(text)
    }

    /// Runs matching `filter`: from the running totals with no filter or one, else counted.
    static func total(
        _ filter: ResultFilter, clause: String, bindings: [PostgresValue], _ connection: PostgresConnection
    ) throws -> Int {
        let given = [("model", filter.model), ("engine", filter.engine), ("suite_name", filter.suiteName)]
            .compactMap { kind, value in value.map { (kind, $0) } }
        switch given.count {
        case 0: return try PostgresResultTotals.allRuns(connection)
        case 1: return try PostgresResultTotals.runs(given[0].0, value: given[0].1, connection)
        default: return try connection.queryOne("SELECT count(*) FROM runs" + clause, bindings)?.int(0) ?? 0
        }
    }

    static func whereClause(_ filter: ResultFilter) -> (String, [PostgresValue]) {
        var conditions: [String] = []
        var bindings: [PostgresValue] = []
        for (column, value) in [("model", filter.model), ("engine", filter.engine), ("suite_name", filter.suiteName)] {
            guard let value else { continue }
            bindings.append(.text(value))
            conditions.append("\(column) = $\(bindings.count)")
        }
        return (conditions.isEmpty ? "" : " WHERE " + conditions.joined(separator: " AND "), bindings)
    }

    /// `{"id":"<id>",` + the stored document after its opening brace (as the SQLite store).
    static func item(_ row: PostgresRow) -> RawJSON {
        let id = row.string(0) ?? ""
        let document = Array((row.string(1) ?? "{}").utf8)
        var bytes: [UInt8] = []
        bytes.reserveCapacity(document.count + 26)
        document.withUnsafeBytes { JSONSplice.appendObject(id: id, members: $0, to: &bytes) }
        return RawJSON(trusted: bytes)
    }
}
