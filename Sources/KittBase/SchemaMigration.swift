/// One numbered schema step, for either store (SQLite's `Migration`, PostgreSQL's
/// `PostgresMigration`; each backend keeps its own series of numbers). Never edit one that
/// has shipped: add a new one. `sql` may hold several statements and runs inside the
/// transaction the backend's migrator opens, so it must not contain BEGIN/COMMIT.
public struct SchemaMigration: Sendable {
    public let version: Int
    public let name: String
    public let sql: String

    public init(version: Int, name: String, sql: String) {
        self.version = version
        self.name = name
        self.sql = sql
    }
}
