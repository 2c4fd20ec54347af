import KittStore
import KittPostgres
import KittSQLite

/// Copies a kitt store between SQLite and PostgreSQL, row for row (issue 15 point 4,
/// `kitt migrate --to` / `--from`): ids, timestamps and documents are kept byte for byte.
/// Each direction writes in one transaction, so a failure leaves the target as it was
/// (empty), and reads one consistent snapshot of the source. The columns copied are read
/// from both schemas at run time (those both have), so a new column needs no change here.
public enum StoreCopy {
    /// Tables in foreign-key order, with their identity (SQLite rowid-alias) columns.
    /// SQLite's summary tables (`Schema.resultSummaryTables`) have no PostgreSQL counterpart:
    /// they are skipped one way and rebuilt from the copied rows the other way.
    static let tables: [(name: String, identity: String?)] = [
        ("runs", "rid"), ("benchmarks", "id"), ("metrics", "id"), ("hardware", nil),
        ("agents", nil), ("agent_settings", nil), ("agent_engines", nil), ("agent_commands", nil),
        ("agent_install_tokens", nil),
        ("quick_tests", nil), ("quick_test_logs", "id"), ("web_campaigns", nil), ("campaign_logs", "id"),
        ("engine_profiles", nil), ("web_sessions", nil),
    ]

    public enum CopyError: Error, CustomStringConvertible, Equatable {
        /// The PostgreSQL target holds rows.
        case targetNotEmpty(table: String)
        /// The SQLite target holds rows.
        case sqliteTargetNotEmpty(table: String)
        /// A PostgreSQL value that does not read as its column's type (should not happen).
        case unreadable(table: String, column: String, value: String)
        /// Writing a table's rows failed (a value the target cannot hold, a lost connection).
        case failed(table: String, reason: String)

        public var description: String {
            switch self {
            case .targetNotEmpty(let table):
                "the PostgreSQL database already holds kitt data (table \(table) is not empty); copy into an empty one"
            case .sqliteTargetNotEmpty(let table):
                "the SQLite store already holds kitt data (table \(table) is not empty); copy into a new file"
            case .unreadable(let table, let column, _):
                "cannot read a value of \(table).\(column) as its column type"
            case .failed(let table, let reason):
                "copying table \(table) failed, nothing was copied: \(reason)"
            }
        }
    }

    /// Copies every table into an empty PostgreSQL store; returns the rows copied per
    /// table, in copy order. `progress` hears each table as it is done (before COMMIT;
    /// throwing cancels the copy).
    /// The target's tables are locked against writers (another kitt instance) for the copy.
    public static func copy(
        from source: Store, to target: PostgresStore, progress: ((String, Int) throws -> Void)? = nil
    ) throws -> [(table: String, rows: Int)] {
        // One read transaction: every page comes from the same snapshot of the source.
        let copied = try source.database.read { sqlite in
            // No retries: a retried body would report its tables twice.
            try target.pool.transaction(retries: 0) { pg in
                try pg.execute("LOCK TABLE \(tables.map(\.name).joined(separator: ", ")) IN SHARE ROW EXCLUSIVE MODE")
                for table in tables {
                    if try pg.queryOne("SELECT EXISTS (SELECT 1 FROM \(table.name))")?.bool(0) == true {
                        throw CopyError.targetNotEmpty(table: table.name)
                    }
                }
                var copied: [(table: String, rows: Int)] = []
                for table in tables {
                    let targetColumns = Set(try postgresColumns(table.name, pg).map(\.name))
                    var count = 0
                    var lastRowID: Int64 = Int64.min
                    var batch = CopyBatch(columns: targetColumns.count)
                    while true {
                        // Paged by rowid (column 0), so a large table never sits in memory whole.
                        let limit = batch.rows
                        let rows = try sqlite.query(
                            "SELECT rowid, * FROM \(table.name) WHERE rowid > ? ORDER BY rowid LIMIT ?",
                            [.integer(lastRowID), .integer(Int64(limit))])
                        guard let first = rows.first else { break }
                        // Columns both schemas have (SQLite-only ones would have nowhere to go).
                        let columns = first.columnNames.enumerated().dropFirst().filter { targetColumns.contains($0.element) }
                        try withTable(table.name) { try insert(rows, columns: columns, table: table, into: pg) }
                        count += rows.count
                        lastRowID = rows.last?.int64(0) ?? lastRowID
                        batch.observe(rows.map { row in (0..<row.count).reduce(0) { $0 + byteCount(row[$1]) } })
                        if rows.count < limit { break }
                    }
                    if let identity = table.identity {
                        try pg.query(
                            """
                            SELECT setval(pg_get_serial_sequence($1, $2),
                                          COALESCE((SELECT MAX(\(identity)) FROM \(table.name)), 0) + 1, false)
                            """, [.text(table.name), .text(identity)])
                    }
                    copied.append((table.name, count))
                    try progress?(table.name, count)
                }
                // The rows went in directly: the running totals are computed from them once.
                try PostgresResultTotals.rebuild(pg)
                return copied
            }
        }
        // Instances already running on this database drop their cached result answers (after
        // COMMIT: a count moved earlier could label a cache entry made before the copy).
        PostgresResultsRepository.countChange(target.pool)
        return copied
    }

    /// Runs `body`, naming `table` in what it throws (without the statement: a batch's SQL is
    /// hundreds of placeholders long).
    static func withTable<T>(_ table: String, _ body: () throws -> T) throws -> T {
        do {
            return try body()
        } catch let error as CopyError {
            throw error
        } catch let error as PostgresError {
            throw CopyError.failed(table: table, reason: error.message + (error.detail.map { " (\($0))" } ?? ""))
        } catch let error as SQLiteError {
            throw CopyError.failed(table: table, reason: error.message)
        } catch {
            throw CopyError.failed(table: table, reason: "\(error)")
        }
    }

    /// A PostgreSQL table's columns and their types, in table order.
    static func postgresColumns(_ table: String, _ pg: PostgresConnection) throws -> [(name: String, type: String)] {
        try pg.query(
            """
            SELECT column_name, data_type FROM information_schema.columns
            WHERE table_schema = current_schema() AND table_name = $1 ORDER BY ordinal_position
            """, [.text(table)]
        ).rows.compactMap { row in row.string(0).map { ($0, row.string(1) ?? "") } }
    }

    private static func insert(
        _ rows: [Row], columns: [(offset: Int, element: String)], table: (name: String, identity: String?),
        into pg: PostgresConnection
    ) throws {
        var values: [PostgresValue] = []
        var tuples: [String] = []
        for row in rows {
            let placeholders = columns.map { column -> String in
                values.append(postgresValue(row[column.offset]))
                return "$\(values.count)"
            }
            tuples.append("(" + placeholders.joined(separator: ", ") + ")")
        }
        let overriding = table.identity == nil ? "" : " OVERRIDING SYSTEM VALUE"
        try pg.run(
            "INSERT INTO \(table.name) (\(columns.map(\.element).joined(separator: ", ")))\(overriding) VALUES "
                + tuples.joined(separator: ", "), values)
    }

    /// About what a value costs in memory (for `CopyBatch`).
    static func byteCount(_ value: SQLiteValue) -> Int {
        switch value {
        case .text(let s): s.utf8.count
        case .blob(let b): b.count
        default: 8
        }
    }

    /// SQLite's storage classes as PostgreSQL text parameters (0/1 are valid boolean input).
    static func postgresValue(_ value: SQLiteValue) -> PostgresValue {
        switch value {
        case .null: .null
        case .integer(let v): .integer(v)
        case .real(let d): .double(d)
        case .text(let s): .text(s)
        case .blob(let b): .bytea(b)
        }
    }
}
