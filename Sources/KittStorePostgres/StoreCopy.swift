import KittStore
import KittPostgres
import KittSQLite

/// Copies a kitt SQLite store into an empty PostgreSQL store, row for row (issue 15 point 4,
/// one direction; not yet behind `kitt migrate`). Ids, timestamps and documents are kept
/// byte for byte; PostgreSQL's identity counters continue after the copied keys. One
/// transaction: a failure leaves the target empty.
public enum StoreCopy {
    /// Tables in foreign-key order, with their identity (SQLite rowid-alias) columns.
    /// SQLite's summary tables (schema v5) have no PostgreSQL counterpart and are skipped.
    static let tables: [(name: String, identity: String?)] = [
        ("runs", "rid"), ("benchmarks", "id"), ("metrics", "id"), ("hardware", nil),
        ("agents", nil), ("agent_settings", nil), ("agent_engines", nil), ("agent_commands", nil),
        ("agent_install_tokens", nil),
        ("quick_tests", nil), ("quick_test_logs", "id"), ("web_campaigns", nil), ("campaign_logs", "id"),
        ("engine_profiles", nil), ("web_sessions", nil),
    ]

    public enum CopyError: Error, CustomStringConvertible, Equatable {
        case targetNotEmpty(table: String)
        public var description: String {
            switch self {
            case .targetNotEmpty(let table):
                "the PostgreSQL database already holds kitt data (table \(table) is not empty); copy into an empty one"
            }
        }
    }

    /// Rows read (and written) per round trip.
    static let batchRows = 200

    /// Copies every table; returns the rows copied per table, in copy order.
    public static func copy(from source: Store, to target: PostgresStore) throws -> [(table: String, rows: Int)] {
        try target.pool.transaction { pg in
            for table in tables {
                if try pg.queryOne("SELECT EXISTS (SELECT 1 FROM \(table.name))")?.bool(0) == true {
                    throw CopyError.targetNotEmpty(table: table.name)
                }
            }
            var copied: [(table: String, rows: Int)] = []
            for table in tables {
                let targetColumns = Set(
                    try pg.query(
                        "SELECT column_name FROM information_schema.columns WHERE table_schema = current_schema() AND table_name = $1",
                        [.text(table.name)]
                    ).rows.compactMap { $0.string(0) })
                var count = 0
                var lastRowID: Int64 = Int64.min
                while true {
                    // Paged by rowid (column 0), so a large table never sits in memory whole.
                    let rows = try source.database.read { sqlite in
                        try sqlite.query(
                            "SELECT rowid, * FROM \(table.name) WHERE rowid > ? ORDER BY rowid LIMIT ?",
                            [.integer(lastRowID), .integer(Int64(batchRows))])
                    }
                    guard let first = rows.first else { break }
                    // Columns both schemas have (SQLite-only ones would have nowhere to go).
                    let columns = first.columnNames.enumerated().dropFirst().filter { targetColumns.contains($0.element) }
                    try insert(rows, columns: columns, table: table, into: pg)
                    count += rows.count
                    lastRowID = rows.last?.int64(0) ?? lastRowID
                    if rows.count < batchRows { break }
                }
                if let identity = table.identity {
                    try pg.query(
                        """
                        SELECT setval(pg_get_serial_sequence($1, $2),
                                      COALESCE((SELECT MAX(\(identity)) FROM \(table.name)), 0) + 1, false)
                        """, [.text(table.name), .text(identity)])
                }
                copied.append((table.name, count))
            }
            // The rows went in directly: the running totals are computed from them once.
            try PostgresResultTotals.rebuild(pg)
            return copied
        }
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
