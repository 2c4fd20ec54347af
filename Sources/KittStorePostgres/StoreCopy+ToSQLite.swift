import KittStore
import KittPostgres
import KittSQLite

extension StoreCopy {
    /// What `kitt migrate --from` checks before copying: whether `info`'s database holds a
    /// kitt store at all (before `PostgresStore` would create the schema in whatever
    /// database was named), and how many other sessions are connected to it (kitt
    /// instances whose later writes the copy's snapshot will not hold).
    public static func inspectSource(_ info: ConnectionInfo) throws -> (holdsKittStore: Bool, otherSessions: Int) {
        let connection = try PostgresConnection(info)
        defer { connection.close() }
        // kitt's own tables: `schema_migrations` alone is a common name (Rails has one too).
        let holds = try connection.queryOne(
            """
            SELECT to_regclass('runs') IS NOT NULL AND to_regclass('agents') IS NOT NULL
                AND to_regclass('web_campaigns') IS NOT NULL
            """)?.bool(0) == true
        let others = try connection.queryOne(
            """
            SELECT count(*) FROM pg_stat_activity
            WHERE datname = current_database() AND pid <> pg_backend_pid() AND backend_type = 'client backend'
            """)?.int(0) ?? 0
        return (holds, others)
    }

    /// Copies a kitt PostgreSQL store into an empty SQLite store; returns the rows copied per
    /// table, in copy order. `progress` hears each table as it is done (before COMMIT;
    /// throwing cancels the copy).
    ///
    /// One SQLite write transaction holds the whole copy (a failure or a kill leaves the
    /// target empty) and one read-only REPEATABLE READ transaction reads the source, so
    /// the copy is one consistent snapshot even while kitt instances write to PostgreSQL.
    /// Rows come through a cursor, a `CopyBatch` at a time (memory stays bounded whatever
    /// the size), in identity order (else primary-key order), so SQLite's rowids follow
    /// PostgreSQL's queue order (`agent_commands.seq`). The result summaries SQLite keeps
    /// and PostgreSQL does not are then rebuilt from the copied rows.
    public static func copy(
        from source: PostgresStore, to target: Store, progress: ((String, Int) throws -> Void)? = nil
    ) throws -> [(table: String, rows: Int)] {
        // Foreign keys off for this transaction only: every child row's parent is copied
        // before it, from a database that enforced the same keys. The summary rebuild sorts
        // every run: on disk, so memory does not grow with the store.
        try target.database.write(checkingForeignKeys: false, sortingOnDisk: true) { sqlite in
            for table in tables where try sqlite.queryOne("SELECT EXISTS (SELECT 1 FROM \(table.name))")?.bool(0) == true {
                throw CopyError.sqliteTargetNotEmpty(table: table.name)
            }
            // No retries: a retried body would insert into SQLite twice.
            let copied = try source.pool.transaction(isolation: .repeatableRead, retries: 0) { pg in
                try pg.execute("SET TRANSACTION READ ONLY")
                var copied: [(table: String, rows: Int)] = []
                for table in tables {
                    let count = try withTable(table.name) { try copyTable(table.name, from: pg, to: sqlite) }
                    copied.append((table.name, count))
                    try progress?(table.name, count)
                }
                return copied
            }
            try Schema.rebuildResultSummaries(sqlite)
            return copied
        }
    }

    /// One table, through a cursor; returns the rows copied.
    private static func copyTable(_ table: String, from pg: PostgresConnection, to sqlite: Connection) throws -> Int {
        let sqliteColumns = Set(
            try sqlite.query("SELECT name FROM pragma_table_info(?)", [.text(table)]).compactMap { $0.string(0) })
        // Columns both schemas have (PostgreSQL's `seq` becomes SQLite's rowid order).
        let columns = try postgresColumns(table, pg).filter { sqliteColumns.contains($0.name) }
        let order = try copyOrder(table, pg)
        try pg.execute(
            "DECLARE kitt_copy NO SCROLL CURSOR FOR SELECT \(columns.map(\.name).joined(separator: ", ")) FROM \(table)"
                + (order.isEmpty ? "" : " ORDER BY " + order.joined(separator: ", ")))
        var count = 0
        var batch = CopyBatch(columns: columns.count)
        while true {
            let limit = batch.rows
            let rows = try pg.query("FETCH \(limit) FROM kitt_copy").rows
            if rows.isEmpty { break }
            var values: [SQLiteValue] = []
            values.reserveCapacity(rows.count * columns.count)
            for row in rows {
                for (i, column) in columns.enumerated() {
                    values.append(try sqliteValue(row, i, type: column.type, table: table, column: column.name))
                }
            }
            let tuple = "(" + Array(repeating: "?", count: columns.count).joined(separator: ", ") + ")"
            try sqlite.run(
                "INSERT INTO \(table) (\(columns.map(\.name).joined(separator: ", "))) VALUES "
                    + Array(repeating: tuple, count: rows.count).joined(separator: ", "), values)
            count += rows.count
            batch.observe(rows.map { row in (0..<row.count).reduce(0) { $0 + (row.text($1)?.utf8.count ?? 0) + 8 } })
            if rows.count < limit { break }
        }
        try pg.execute("CLOSE kitt_copy")
        return count
    }

    /// The identity column, else the primary key's columns.
    private static func copyOrder(_ table: String, _ pg: PostgresConnection) throws -> [String] {
        if let identity = try pg.queryOne(
            """
            SELECT column_name FROM information_schema.columns
            WHERE table_schema = current_schema() AND table_name = $1 AND is_identity = 'YES'
            """, [.text(table)])?.string(0)
        {
            return [identity]
        }
        return try pg.query(
            """
            SELECT a.attname FROM pg_index i
            JOIN pg_attribute a ON a.attrelid = i.indrelid AND a.attnum = ANY (i.indkey)
            WHERE i.indrelid = $1::regclass AND i.indisprimary ORDER BY a.attnum
            """, [.text(table)]
        ).rows.compactMap { $0.string(0) }
    }

    /// PostgreSQL's text for a column as the SQLite storage class the forward copy came from
    /// (booleans as 0/1, as SQLite stores them).
    static func sqliteValue(_ row: PostgresRow, _ i: Int, type: String, table: String, column: String) throws
        -> SQLiteValue
    {
        guard let text = row.text(i) else { return .null }
        let value: SQLiteValue?
        switch type {
        case "boolean": value = row.bool(i).map { .integer($0 ? 1 : 0) }
        case "bigint", "integer", "smallint": value = row.int64(i).map { .integer($0) }
        case "double precision", "real": value = row.double(i).map { .real($0) }
        case "bytea": value = row.bytes(i).map { .blob($0) }
        default: value = .text(text)
        }
        guard let value else { throw CopyError.unreadable(table: table, column: column, value: text) }
        return value
    }
}
