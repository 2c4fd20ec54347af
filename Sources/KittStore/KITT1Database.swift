#if canImport(Glibc)
import Glibc
#endif
import KittSQLite

/// A database file written by KITT 1.x (the Python server), recognised and read without
/// changing it: SQLite opened read-only and immutable (see `Connection.withImmutableFile`).
public enum KITT1Database {
    /// The only KITT schema `kitt migrate` reads (KITT's `schema_version` table).
    public static let supportedSchemaVersion = 11

    /// What a database file is.
    public enum Kind: Sendable, Equatable {
        /// No file, or an empty one (SQLite creates it).
        case absent
        /// kitt's own store (`schema_migrations`).
        case kitt
        /// Written by KITT 1.x (`schema_version` table); its newest version (nil: unreadable).
        case kitt1(version: Int?)
        /// A SQLite database of something else.
        case otherSQLite
        /// Not a SQLite database, or unreadable (the reason).
        case unreadable(String)
    }

    /// Looks at the file without changing it (or creating anything next to it). A file with
    /// changes still in its `-wal` (a database in use, like kitt's own store) is read
    /// through its WAL: read-only, but not as immutable.
    public static func inspect(_ path: String) -> Kind {
        var info = stat()
        guard stat(path, &info) == 0, info.st_size > 0 else { return .absent }
        let inUse = (fileSize(path + "-wal") ?? 0) > 0
        do {
            return try Connection.withImmutableFile(path, immutable: !inUse) { connection in
                let tables = Set(
                    try connection.query("SELECT name FROM sqlite_master WHERE type = 'table'").compactMap {
                        $0.string(0)
                    })
                if tables.contains("schema_migrations") { return .kitt }
                guard tables.contains("schema_version") else { return .otherSQLite }
                let version = try? connection.queryOne("SELECT MAX(version) FROM schema_version")?.int(0)
                return .kitt1(version: version ?? nil)
            }
        } catch let error as SQLiteError {
            return .unreadable(error.message)
        } catch {
            return .unreadable("\(error)")
        }
    }

    /// Throws `KITT1DatabaseError` when `path` is a KITT 1.x database (kitt never opens one
    /// as its store: migrating it in place would fail on KITT's tables and change the file).
    public static func refuseAsStore(_ path: String) throws {
        if case .kitt1(let version) = inspect(path) { throw KITT1DatabaseError(path: path, version: version) }
    }

    /// The size in bytes of the file at `path` (nil: none).
    static func fileSize(_ path: String) -> Int? {
        var info = stat()
        guard stat(path, &info) == 0 else { return nil }
        return Int(info.st_size)
    }

    /// Whether two paths name the same file (same device and inode).
    static func sameFile(_ a: String, _ b: String) -> Bool {
        var first = stat()
        var second = stat()
        guard stat(a, &first) == 0, stat(b, &second) == 0 else { return false }
        return first.st_dev == second.st_dev && first.st_ino == second.st_ino
    }
}

/// `kitt web`/`kitt import` pointed at KITT 1.x's `kitt.db`: kitt does not change it in
/// place; `kitt migrate` copies what it holds into a kitt store.
public struct KITT1DatabaseError: Error, Sendable, CustomStringConvertible {
    public let path: String
    public let version: Int?

    public var description: String {
        let schema = version.map { " (schema version \($0))" } ?? ""
        return """
            \(path) is a KITT 1.x database\(schema), not a kitt store; kitt does not open it in place. \
            Bring its agents, campaigns, quick tests and results over with 'kitt migrate': \
            mv \(path) \(path).kitt1 && kitt migrate \(path).kitt1 --db \(path) (see 'kitt migrate --help')
            """
    }
}
