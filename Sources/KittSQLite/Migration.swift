internal import CSQLite
import KittBase

/// One SQLite schema step (`SchemaMigration`). In SQLite, `PRAGMA foreign_keys` is a no-op
/// inside the migrator's transaction.
public typealias Migration = SchemaMigration

extension Database {
    /// Applies every migration newer than the database's version, in order, each in its own
    /// transaction, and records it in `schema_migrations`.
    ///
    /// Throws if the database has a version newer than the newest migration given (a
    /// downgrade: an older kitt must not touch a schema it does not know).
    public func migrate(_ migrations: [Migration]) throws {
        for (previous, next) in zip(migrations, migrations.dropFirst()) where next.version <= previous.version {
            throw SQLiteError.misuse(
                "migrations must have increasing versions: \(next.version) (\(next.name)) follows \(previous.version)")
        }
        if let first = migrations.first, first.version < 1 {
            throw SQLiteError.misuse("migration versions start at 1, got \(first.version) (\(first.name))")
        }
        let newestKnown = migrations.last?.version ?? 0

        let current = try write { db in
            try db.execute(Self.createMigrationsTable)
            return try Self.version(db)
        }
        guard current <= newestKnown else {
            throw SQLiteError(
                code: SQLITE_ERROR,
                message: "database schema version \(current) is newer than this kitt (knows up to \(newestKnown))")
        }

        for migration in migrations where migration.version > current {
            // A migration may rebuild whole tables: its journals go to files, not memory.
            try write(checkingForeignKeys: true, sortingOnDisk: true) { db in
                // Re-check inside the transaction: another process may have migrated meanwhile.
                guard try Self.version(db) < migration.version else { return }
                do throws(SQLiteError) {
                    try db.execute(migration.sql)
                } catch {
                    throw SQLiteError(
                        code: error.code, extendedCode: error.extendedCode,
                        message: "migration \(migration.version) (\(migration.name)) failed: \(error.message)",
                        sql: error.sql)
                }
                try db.run(
                    "INSERT INTO schema_migrations (version, name) VALUES (?, ?)",
                    [SQLiteValue(migration.version), .text(migration.name)])
            }
        }
    }

    /// The newest applied migration's version; 0 for a database never migrated.
    public var schemaVersion: Int {
        get throws {
            try read { db in
                let exists = try db.queryOne(
                    "SELECT 1 FROM sqlite_master WHERE type = 'table' AND name = 'schema_migrations'") != nil
                return exists ? try Self.version(db) : 0
            }
        }
    }

    private static let createMigrationsTable = """
        CREATE TABLE IF NOT EXISTS schema_migrations (
            version    INTEGER PRIMARY KEY,
            name       TEXT NOT NULL,
            applied_at TEXT NOT NULL DEFAULT (strftime('%Y-%m-%dT%H:%M:%fZ', 'now'))
        )
        """

    private static func version(_ db: Connection) throws(SQLiteError) -> Int {
        try db.queryOne("SELECT COALESCE(MAX(version), 0) FROM schema_migrations")?.int(0) ?? 0
    }
}
