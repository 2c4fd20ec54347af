import KittJSON
import KittSQLite
import Synchronization

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

/// Counts every committed change to the results tables in this process, so callers can
/// cache what they computed from them (list pages, aggregates). Bumped only AFTER a
/// commit, and read BEFORE a query: a cached value is never older than its generation.
public enum ResultsGeneration {
    private static let counter = Atomic<Int>(0)
    public static var current: Int { counter.load(ordering: .acquiring) }
    static func bump() { counter.add(1, ordering: .releasing) }
}

/// Results: the metrics.json documents as sent, their indexed columns, benchmark rows and
/// one row per numeric metric (so aggregation is one SQL query).
public struct ResultsRepository: Sendable {
    public let database: Database

    public init(database: Database) {
        self.database = database
    }

    // MARK: Writing

    /// Stores `document` under a new id (durable on return).
    @discardableResult
    public func insert(_ document: ResultDocument) throws -> String {
        let id = StoreID.make()
        try database.write { connection in try ResultsRepository.insert(document, id: id, into: connection) }
        ResultsGeneration.bump()
        return id
    }

    /// Stores many documents in one transaction (import); returns their ids.
    public func insertAll(_ documents: [ResultDocument]) throws -> [String] {
        let ids = try database.write { connection in
            try documents.map { document in
                let id = StoreID.make()
                try ResultsRepository.insert(document, id: id, into: connection)
                return id
            }
        }
        ResultsGeneration.bump()
        return ids
    }

    /// Whether a run with exactly these bytes (and columns) is already stored.
    public func contains(_ document: ResultDocument) throws -> Bool {
        try database.read { connection in
            try connection.queryOne(
                "SELECT 1 FROM runs WHERE model = ? AND timestamp = ? AND engine = ? AND document = ?",
                [.text(document.model), .text(document.timestamp), .text(document.engine),
                 .text(String(decoding: document.bytes, as: UTF8.self))]) != nil
        }
    }

    /// The insert itself, for callers composing it into a larger transaction. The caller
    /// must call `ResultsRepository.didCommit()` once that transaction has committed.
    static func insert(_ document: ResultDocument, id: String, into connection: Connection) throws {
        try connection.run(
            """
            INSERT INTO runs (id, model, engine, suite_name, timestamp, passed, total_benchmarks,
                passed_count, failed_count, total_time_seconds, kitt_version, document, created_at)
            VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)
            """,
            [.text(id), .text(document.model), .text(document.engine), .text(document.suiteName),
             .text(document.timestamp), SQLiteValue(document.passed), SQLiteValue(document.totalBenchmarks),
             SQLiteValue(document.passedCount), SQLiteValue(document.failedCount),
             .real(document.totalTimeSeconds), .text(document.kittVersion),
             // The parser validated the bytes as UTF-8, so this keeps them exactly.
             .text(String(decoding: document.bytes, as: UTF8.self)), .text(Timestamp.now())])
        // Children reference the run's integer key (its rowid, the largest so far), so
        // their rows and index entries are appended rather than put at random places.
        let run = SQLiteValue.integer(connection.lastInsertRowID)
        for benchmark in document.benchmarks {
            try connection.run(
                "INSERT INTO benchmarks (run, test_name, test_version, run_number, passed) VALUES (?, ?, ?, ?, ?)",
                [run, .text(benchmark.testName), .text(benchmark.testVersion),
                 SQLiteValue(benchmark.runNumber), SQLiteValue(benchmark.passed)])
            let benchmarkID = connection.lastInsertRowID
            for metric in benchmark.metrics {
                try connection.run(
                    "INSERT INTO metrics (run, benchmark_id, name, value) VALUES (?, ?, ?, ?)",
                    [run, .integer(benchmarkID), .text(metric.name), .real(metric.value)])
            }
        }
        if let hardware = document.hardware {
            try connection.run(
                """
                INSERT INTO hardware (run, gpu_model, gpu_vram_gb, gpu_count, cpu_model, cpu_cores,
                    ram_gb, environment_type, fingerprint)
                VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)
                """,
                [run, SQLiteValue(hardware.gpuModel), SQLiteValue(hardware.gpuVRAMGB),
                 SQLiteValue(hardware.gpuCount), SQLiteValue(hardware.cpuModel), SQLiteValue(hardware.cpuCores),
                 SQLiteValue(hardware.ramGB), SQLiteValue(hardware.environmentType),
                 SQLiteValue(hardware.fingerprint)])
        }
    }

    static func didCommit() { ResultsGeneration.bump() }

    /// Deletes a run (its benchmarks, metrics and hardware cascade). False when unknown.
    public func delete(id: String) throws -> Bool {
        let changed = try database.write { connection in
            try connection.run("DELETE FROM runs WHERE id = ?", [.text(id)])
        }
        if changed > 0 { ResultsGeneration.bump() }
        return changed > 0
    }

    // MARK: Reading

    /// One page, newest `timestamp` first: the total matching and each item as the stored
    /// bytes with `"id"` spliced in front (never decoded).
    public func list(_ filter: ResultFilter, limit: Int, offset: Int) throws -> (total: Int, items: [RawJSON]) {
        var conditions: [String] = []
        var bindings: [SQLiteValue] = []
        if let model = filter.model { conditions.append("model = ?"); bindings.append(.text(model)) }
        if let engine = filter.engine { conditions.append("engine = ?"); bindings.append(.text(engine)) }
        if let suite = filter.suiteName { conditions.append("suite_name = ?"); bindings.append(.text(suite)) }
        // Only fixed fragments go into the SQL; every value is bound.
        let whereClause = conditions.isEmpty ? "" : " WHERE " + conditions.joined(separator: " AND ")
        let countSQL = "SELECT COUNT(*) FROM runs" + whereClause
        let pageSQL = "SELECT id, document FROM runs" + whereClause + " ORDER BY timestamp DESC LIMIT ? OFFSET ?"
        return try database.read { connection in
            let total = try connection.queryOne(countSQL, bindings)?.int(0) ?? 0
            var items: [RawJSON] = []
            if offset < total {
                items.reserveCapacity(min(limit, total - offset))
                try connection.forEachRow(pageSQL, bindings + [SQLiteValue(limit), SQLiteValue(offset)]) { row in
                    items.append(ResultsRepository.item(row))
                }
            }
            return (total, items)
        }
    }

    /// One result (document + id), or nil.
    public func get(id: String) throws -> RawJSON? {
        try database.read { connection in
            var found: RawJSON?
            try connection.forEachRow("SELECT id, document FROM runs WHERE id = ?", [.text(id)]) { row in
                found = ResultsRepository.item(row)
            }
            return found
        }
    }

    /// The results among `ids` that exist, in the order asked (repeats kept).
    public func get(ids: [String]) throws -> [RawJSON] {
        try database.read { connection in
            var out: [RawJSON] = []
            for id in ids {
                try connection.forEachRow("SELECT id, document FROM runs WHERE id = ?", [.text(id)]) { row in
                    out.append(ResultsRepository.item(row))
                }
            }
            return out
        }
    }

    /// `[{"<group>": value, "count": n, "<metric>_avg": x|null, ...}]`, ordered by group value:
    /// one query over runs LEFT JOIN metrics (AVG over every metric row of that name).
    public func aggregate(groupBy group: ResultGroup, metrics: [String]) throws -> [JSON] {
        var unique: [String] = []
        for metric in metrics where !unique.contains(metric) { unique.append(metric) }
        let column = "r." + group.rawValue  // from the enum, never from input
        let sql: String
        if unique.isEmpty {
            sql = "SELECT \(column), COUNT(*) FROM runs r GROUP BY \(column) ORDER BY \(column)"
        } else {
            let averages = unique.indices.map { ", AVG(CASE WHEN m.name = ?\($0 + 1) THEN m.value END)" }.joined()
            let names = unique.indices.map { "?\($0 + 1)" }.joined(separator: ", ")
            sql = """
                SELECT \(column), COUNT(DISTINCT r.rid)\(averages)
                FROM runs r LEFT JOIN metrics m ON m.run = r.rid AND m.name IN (\(names))
                GROUP BY \(column) ORDER BY \(column)
                """
        }
        let bindings = unique.map { SQLiteValue.text($0) }
        return try database.read { connection in
            var rows: [JSON] = []
            try connection.forEachRow(sql, bindings) { row in
                var object = JSONObject()
                object.reserveCapacity(2 + unique.count)
                object[group.rawValue] = .string(row.string(0) ?? "")
                object["count"] = .int(row.int(1) ?? 0)
                for (i, metric) in unique.enumerated() {
                    object[metric + "_avg"] = row.double(2 + i).map { .double($0) } ?? .null
                }
                rows.append(.object(object))
            }
            return rows
        }
    }

    /// `{"id":"<id>",` + the stored document after its opening brace (its own `"id"`, if
    /// an old row has one, left out: a served object never carries a key twice).
    static func item(_ row: borrowing RowCursor) -> RawJSON {
        let id = row.string(0) ?? ""
        return row.withUnsafeBytes(1) { document in
            var bytes: [UInt8] = []
            bytes.reserveCapacity(document.count + 26)
            JSONSplice.appendObject(id: id, members: document, to: &bytes)
            return RawJSON(trusted: bytes)
        }
    }
}

extension Store {
    public var results: ResultsRepository { ResultsRepository(database: database) }
}
