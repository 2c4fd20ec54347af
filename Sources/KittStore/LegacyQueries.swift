import KittSQLite

/// Read-only queries over `runs` for the legacy (`--legacy`) dashboard. Kept apart from the
/// results repository on purpose: the dashboard only reads a few columns and the document.
public struct LegacyQueries: Sendable {
    /// One row of the dashboard.
    public struct Run: Sendable, Equatable {
        public let id: String
        public let model: String
        public let engine: String
        public let suiteName: String
        public let passed: Bool
        public let passedCount: Int
        public let totalBenchmarks: Int
        public let totalTimeSeconds: Double
        public let timestamp: String
        /// The stored metrics.json document (a JSON object, as sent).
        public let document: String

        public init(
            id: String, model: String, engine: String, suiteName: String, passed: Bool, passedCount: Int,
            totalBenchmarks: Int, totalTimeSeconds: Double, timestamp: String, document: String
        ) {
            self.id = id
            self.model = model
            self.engine = engine
            self.suiteName = suiteName
            self.passed = passed
            self.passedCount = passedCount
            self.totalBenchmarks = totalBenchmarks
            self.totalTimeSeconds = totalTimeSeconds
            self.timestamp = timestamp
            self.document = document
        }
    }

    /// Runs of one model × engine pair.
    public struct Group: Sendable, Equatable {
        public let model: String
        public let engine: String
        public let runs: Int
        public let passed: Int
        public var failed: Int { runs - passed }

        public init(model: String, engine: String, runs: Int, passed: Int) {
            self.model = model
            self.engine = engine
            self.runs = runs
            self.passed = passed
        }
    }

    public let database: Database

    public init(database: Database) {
        self.database = database
    }

    private static let columns = """
        SELECT id, model, engine, suite_name, passed, passed_count, total_benchmarks,
               total_time_seconds, timestamp, document FROM runs
        """
    private static let order = " ORDER BY timestamp DESC, id"

    /// Runs, newest first, filtered by exact model and engine when given; at most `limit`.
    public func runs(model: String? = nil, engine: String? = nil, limit: Int = -1) throws -> [Run] {
        let (clause, bindings) = LegacyQueries.filter(model: model, engine: engine)
        return try database.read { connection in
            try connection.query(
                LegacyQueries.columns + clause + LegacyQueries.order + " LIMIT ?",
                bindings + [.integer(Int64(limit))]
            ).map(LegacyQueries.run)
        }
    }

    /// The run at `index` in the newest-first order of `runs()`; nil past the end.
    public func run(at index: Int) throws -> Run? {
        guard index >= 0 else { return nil }
        return try database.read { connection in
            try connection.queryOne(
                LegacyQueries.columns + LegacyQueries.order + " LIMIT 1 OFFSET ?", [.integer(Int64(index))]
            ).map(LegacyQueries.run)
        }
    }

    /// How many runs match the filters.
    public func count(model: String? = nil, engine: String? = nil) throws -> Int {
        // From the summaries (schema v5), not a scan of the matching runs.
        try database.read { connection in
            try ResultsRepository.count(ResultFilter(model: model, engine: engine), in: connection)
        }
    }

    /// Runs grouped by model and engine (passed = runs whose `passed` is true), sorted.
    public func groups(model: String? = nil, engine: String? = nil) throws -> [Group] {
        let (clause, bindings) = LegacyQueries.filter(model: model, engine: engine)
        return try database.read { connection in
            try connection.query(
                "SELECT model, engine, COUNT(*), COALESCE(SUM(passed != 0), 0) FROM runs" + clause
                    + " GROUP BY model, engine ORDER BY model, engine", bindings
            ).map { row in
                Group(
                    model: row.string(0) ?? "", engine: row.string(1) ?? "", runs: row.int(2) ?? 0,
                    passed: row.int(3) ?? 0)
            }
        }
    }

    /// Distinct models and engines, sorted (for the filter menus).
    public func distinctModelsAndEngines() throws -> (models: [String], engines: [String]) {
        try database.read { connection in
            let models = try connection.query("SELECT DISTINCT model FROM runs ORDER BY model").compactMap {
                $0.string(0)
            }
            let engines = try connection.query("SELECT DISTINCT engine FROM runs ORDER BY engine").compactMap {
                $0.string(0)
            }
            return (models, engines)
        }
    }

    /// A WHERE clause from fixed fragments; the values are always bound, never spliced.
    private static func filter(model: String?, engine: String?) -> (String, [SQLiteValue]) {
        var conditions: [String] = []
        var bindings: [SQLiteValue] = []
        if let model {
            conditions.append("model = ?")
            bindings.append(.text(model))
        }
        if let engine {
            conditions.append("engine = ?")
            bindings.append(.text(engine))
        }
        return (conditions.isEmpty ? "" : " WHERE " + conditions.joined(separator: " AND "), bindings)
    }

    private static func run(_ row: Row) -> Run {
        Run(
            id: row.string(0) ?? "", model: row.string(1) ?? "", engine: row.string(2) ?? "",
            suiteName: row.string(3) ?? "", passed: row.bool(4) ?? false, passedCount: row.int(5) ?? 0,
            totalBenchmarks: row.int(6) ?? 0, totalTimeSeconds: row.double(7) ?? 0, timestamp: row.string(8) ?? "",
            document: row.string(9) ?? "{}")
    }
}

extension Store {
    public var legacyQueries: LegacyQueries { LegacyQueries(database: database) }
}
