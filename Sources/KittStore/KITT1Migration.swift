import KittJSON
import KittSQLite

/// What `kitt migrate` brought from each KITT table, and what it left and why.
public struct KITT1MigrationReport: Sendable, CustomStringConvertible {
    public struct Table: Sendable {
        public let name: String
        /// Rows in the KITT table.
        public var found = 0
        public var brought = 0
        /// One entry per row not brought: which row and why.
        public var skipped: [(row: String, reason: String)] = []
        /// Reasons that apply to many rows at once (counted, shown once).
        public var skippedInBulk: [(count: Int, reason: String)] = []

        public var skippedCount: Int { skipped.count + skippedInBulk.reduce(0) { $0 + $1.count } }
    }

    public var source = ""
    public var destination = ""
    public var schemaVersion = 0
    public var tables: [Table] = []
    /// Things brought but changed on the way (a mapping that loses something), per row.
    public var notes: [String] = []

    public func table(_ name: String) -> Table? { tables.first { $0.name == name } }

    mutating func update(_ name: String, _ change: (inout Table) -> Void) {
        if let index = tables.firstIndex(where: { $0.name == name }) {
            change(&tables[index])
        } else {
            var table = Table(name: name)
            change(&table)
            tables.append(table)
        }
    }

    public var description: String {
        var lines = ["migrated KITT 1.x database \(source) (schema version \(schemaVersion)) into \(destination)"]
        let width = tables.map(\.name.count).max() ?? 0
        for table in tables {
            let padding = String(repeating: " ", count: width - table.name.count)
            lines.append("  \(table.name)\(padding)  found \(table.found), brought \(table.brought), skipped \(table.skippedCount)")
        }
        let skips = tables.flatMap { table in
            table.skippedInBulk.map { "  \(table.name): \($0.count) row(s): \($0.reason)" }
                + table.skipped.map { "  \(table.name) \($0.row): \($0.reason)" }
        }
        if !skips.isEmpty { lines.append("skipped:"); lines += skips }
        if !notes.isEmpty { lines.append("changed on the way:"); lines += notes.map { "  " + $0 } }
        return lines.joined(separator: "\n")
    }
}

/// Why `kitt migrate` refuses a file (nothing is written then).
public struct KITT1MigrationRefusal: Error, Sendable, CustomStringConvertible {
    public let description: String
    init(_ description: String) { self.description = description }
}

/// `kitt migrate`: copies a KITT 1.x database (schema version 11) into a kitt store.
///
/// The source is opened read-only and immutable and never changed. Ids are kept (agents,
/// campaigns, quick tests, results, engine profiles), so installed agents, scripts and links
/// keep working, and a row whose id is already in the store is skipped: running it twice
/// adds nothing twice. Results go through the store's own result insert (from each run's
/// `raw_json`, the metrics.json document as KITT received it), so they are indexed like any
/// other; KITT's own benchmarks/metrics/hardware rows are derived from that document and are
/// not read.
public enum KITT1Migration {
    /// Runs per transaction while copying results.
    static let resultBatchSize = 200

    /// `hashToken`: the store's agent-token hash (SHA-256 hex), for an old KITT's plain tokens.
    public static func run(
        source: String, into store: Store, destinationPath: String, hashToken: (String) -> String
    ) throws -> KITT1MigrationReport {
        try checkSource(source, destinationPath: destinationPath)
        var report = KITT1MigrationReport()
        report.source = source
        report.destination = destinationPath
        report.schemaVersion = KITT1Database.supportedSchemaVersion
        try Connection.withImmutableFile(source) { kitt in
            let reader = KITT1Reader(connection: kitt)
            try migrateAgents(reader, store, hashToken: hashToken, &report)
            try migrateEngineProfiles(reader, store, &report)
            let runIDs = try migrateResults(reader, store, &report)
            try migrateCampaigns(reader, store, &report)
            try migrateQuickTests(reader, store, runIDs: runIDs, &report)
            try reportUnmigrated(reader, &report)
        }
        return report
    }

    /// Refuses anything but a settled KITT 1.x database of the supported schema, and the
    /// store's own file.
    public static func checkSource(_ source: String, destinationPath: String) throws {
        switch KITT1Database.inspect(source) {
        case .absent:
            throw KITT1MigrationRefusal("\(source): no such file (or it is empty)")
        case .unreadable(let why):
            throw KITT1MigrationRefusal("\(source) cannot be read, or is not a SQLite database: \(why)")
        case .otherSQLite, .kitt1(version: nil):
            throw KITT1MigrationRefusal("\(source) is a SQLite database but not KITT's (no schema_version table)")
        case .kitt:
            throw KITT1MigrationRefusal("\(source) is already a kitt store, not a KITT 1.x database: nothing to migrate")
        case .kitt1(let version?) where version != KITT1Database.supportedSchemaVersion:
            throw KITT1MigrationRefusal(
                "\(source) has KITT schema version \(version); kitt migrate reads version "
                    + "\(KITT1Database.supportedSchemaVersion) (KITT 1.x's last): "
                    + (version < KITT1Database.supportedSchemaVersion
                        ? "start and stop the latest KITT 1.x on it once to upgrade it, then migrate"
                        : "this KITT is newer than kitt knows"))
        case .kitt1:
            break
        }
        // Immutable reading skips the -wal file, so changes still in it would be lost silently.
        for suffix in ["-wal", "-journal"] {
            if let size = KITT1Database.fileSize(source + suffix), size > 0 {
                throw KITT1MigrationRefusal(
                    "\(source)\(suffix) holds \(size) bytes of changes not yet in \(source) (KITT is running, "
                        + "or did not stop cleanly). Stop KITT, then run 'sqlite3 \(source) \"PRAGMA wal_checkpoint(TRUNCATE)\"' "
                        + "(or start and stop KITT once), and migrate again")
            }
        }
        if KITT1Database.sameFile(source, destinationPath) {
            throw KITT1MigrationRefusal(
                "\(source) is the store kitt would write to; move KITT's database aside first: "
                    + "mv \(source) \(source).kitt1 && kitt migrate \(source).kitt1 --db \(source)")
        }
    }

    /// KITT tables kitt has no place for: counted and reported, not copied.
    static func reportUnmigrated(_ reader: KITT1Reader, _ report: inout KITT1MigrationReport) throws {
        let reasons = [
            ("events", "kitt's event stream starts fresh; past events are not replayed"),
            ("web_settings", "kitt takes these settings from flags and the environment (see 'kitt web --help')"),
        ]
        for (table, reason) in reasons {
            let count = try reader.count(table)
            report.update(table) { entry in
                entry.found = count
                if count > 0 { entry.skippedInBulk.append((count, reason)) }
            }
        }
    }
}

/// Reads KITT's tables (a missing table reads as empty).
struct KITT1Reader {
    let connection: Connection

    func hasTable(_ name: String) throws -> Bool {
        try connection.queryOne(
            "SELECT 1 FROM sqlite_master WHERE type = 'table' AND name = ?", [.text(name)]) != nil
    }

    func count(_ table: String) throws -> Int {
        guard try hasTable(table) else { return 0 }
        return try connection.queryOne("SELECT COUNT(*) FROM \"\(table)\"")?.int(0) ?? 0
    }

    /// Every row of `table` in rowid order (`table` is one of KITT's names, never input).
    func rows(_ table: String) throws -> [KITT1Row] {
        guard try hasTable(table) else { return [] }
        return try connection.query("SELECT * FROM \"\(table)\" ORDER BY rowid").map(KITT1Row.init)
    }

    /// Rows of `table` after `rowid`, at most `limit`, with their rowid as `kitt_rowid`.
    func rows(_ table: String, after rowid: Int64, limit: Int) throws -> [KITT1Row] {
        guard try hasTable(table) else { return [] }
        return try connection.query(
            "SELECT rowid AS kitt_rowid, * FROM \"\(table)\" WHERE rowid > ? ORDER BY rowid LIMIT ?",
            [.integer(rowid), SQLiteValue(limit)]
        ).map(KITT1Row.init)
    }
}
