import KittBase

/// One PostgreSQL schema step (`SchemaMigration`), in its own series of numbers, independent
/// of SQLite's. PostgreSQL's DDL is transactional, so a failed step changes nothing.
public typealias PostgresMigration = SchemaMigration

extension PostgresConnection {
    /// The advisory lock key migrations hold (any constant unlikely to collide with an
    /// application's own: "kitt" in ASCII).
    public static let migrationLockKey: Int64 = 0x6B69_7474

    /// Applies every migration newer than the database's version, each in its own
    /// transaction, recording it in `schema_migrations`. Several kitt instances starting at
    /// once serialize on a session advisory lock: the first migrates, the others wait, then
    /// find nothing left to do.
    ///
    /// Throws if the database is newer than the newest migration given (an older kitt must
    /// not run on a schema it does not know).
    public func migrate(_ migrations: [PostgresMigration]) throws(PostgresError) {
        for (previous, next) in zip(migrations, migrations.dropFirst()) where next.version <= previous.version {
            throw .client("migrations must have increasing versions: \(next.version) (\(next.name)) follows \(previous.version)")
        }
        if let first = migrations.first, first.version < 1 {
            throw .client("migration versions start at 1, got \(first.version) (\(first.name))")
        }
        let newestKnown = migrations.last?.version ?? 0
        try query("SELECT pg_advisory_lock($1)", [.integer(Self.migrationLockKey)])
        defer { _ = try? query("SELECT pg_advisory_unlock($1)", [.integer(Self.migrationLockKey)]) }
        try execute(
            """
            CREATE TABLE IF NOT EXISTS schema_migrations (
                version    integer PRIMARY KEY,
                name       text NOT NULL,
                applied_at timestamptz NOT NULL DEFAULT now()
            )
            """)
        let current = try schemaVersion()
        guard current <= newestKnown else {
            throw .client("database schema version \(current) is newer than this kitt (knows up to \(newestKnown))")
        }
        for migration in migrations where migration.version > current {
            do {
                try transaction { connection in
                    try connection.execute(migration.sql)
                    try connection.run(
                        "INSERT INTO schema_migrations (version, name) VALUES ($1, $2)",
                        [.integer(Int64(migration.version)), .text(migration.name)])
                }
            } catch let error as PostgresError {
                throw PostgresError(
                    sqlState: error.sqlState,
                    message: "migration \(migration.version) (\(migration.name)) failed: \(error.message)",
                    detail: error.detail, sql: error.sql)
            } catch {
                throw .client("migration \(migration.version) (\(migration.name)) failed: \(error)")
            }
        }
    }

    /// The newest applied migration's version; 0 for a database never migrated.
    public func schemaVersion() throws(PostgresError) -> Int {
        guard try queryOne("SELECT to_regclass('schema_migrations') IS NOT NULL")?.bool(0) == true else { return 0 }
        return try queryOne("SELECT COALESCE(MAX(version), 0) FROM schema_migrations")?.int(0) ?? 0
    }
}
