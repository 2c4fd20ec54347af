import KittPostgres

/// `--database URL`, as every command that takes it reads it (`kitt web`, `kitt import`): the
/// flag, else `KITT_DATABASE_URL`; a PostgreSQL URL, and never together with `--db`.
enum DatabaseFlag {
    static func resolve(_ given: String?, databasePath: String?, environment: [String: String]) throws -> String? {
        let fromEnvironment = environment[ConnectionInfo.environmentVariable].flatMap { $0.isEmpty ? nil : $0 }
        guard let url = given ?? fromEnvironment else { return nil }
        guard ConnectionInfo.isURL(url) else {
            throw UsageError(
                "--database takes a PostgreSQL URL (postgres://user@host:5432/db); for a SQLite file use --db FILE")
        }
        if databasePath != nil {
            throw UsageError("--db (a SQLite file) and --database (PostgreSQL) are alternatives; give one")
        }
        return url
    }
}
