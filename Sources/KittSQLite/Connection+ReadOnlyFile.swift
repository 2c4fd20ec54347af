internal import CSQLite

extension Connection {
    /// Opens the database file at `path` for reading only and as *immutable* (SQLite's
    /// `mode=ro&immutable=1` URI parameters): no lock is taken and no `-shm`, `-wal` or journal
    /// file is created or read next to it, so the file and its directory stay exactly as they
    /// were. For reading another program's database (`kitt migrate`): the file must not be
    /// changing, and changes still sitting in its `-wal` file are not seen (callers check).
    /// The connection is closed when `body` returns. `immutable: false` opens it read-only
    /// but sharing the file with its writer (for a database another process has open).
    public static func withImmutableFile<T>(
        _ path: String, immutable: Bool = true, _ body: (Connection) throws -> T
    ) throws -> T {
        let connection = try Connection(
            path: (path.hasPrefix("/") ? "file://" : "file:") + uriPath(path) + "?mode=ro" + (immutable ? "&immutable=1" : ""),
            flags: SQLITE_OPEN_READONLY | SQLITE_OPEN_URI | SQLITE_OPEN_NOMUTEX)
        defer { connection.close() }
        return try body(connection)
    }

    /// `path` escaped for a `file:` URI: `%`, `?` and `#` end or change the path there.
    static func uriPath(_ path: String) -> String {
        var out = ""
        for character in path.unicodeScalars {
            switch character {
            case "%": out += "%25"
            case "?": out += "%3f"
            case "#": out += "%23"
            default: out.unicodeScalars.append(character)
            }
        }
        return out
    }
}
