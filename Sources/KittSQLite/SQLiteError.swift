internal import CSQLite

/// An error reported by SQLite (or by this wrapper, using SQLite's codes).
///
/// Carries the SQL text but never the bound arguments: those may hold tokens, passwords
/// or personal data, and errors end up in logs.
public struct SQLiteError: Error, CustomStringConvertible, Sendable {
    /// Primary result code (`SQLITE_CONSTRAINT` = 19, `SQLITE_BUSY` = 5, ...).
    public let code: Int32
    /// Extended result code (`SQLITE_CONSTRAINT_UNIQUE` = 2067, ...); equals `code` when there is none.
    public let extendedCode: Int32
    public let message: String
    public let sql: String?

    public init(code: Int32, extendedCode: Int32? = nil, message: String, sql: String? = nil) {
        self.code = code & 0xFF
        self.extendedCode = extendedCode ?? code
        self.message = message
        self.sql = sql
    }

    /// UNIQUE, PRIMARY KEY, FOREIGN KEY, NOT NULL and CHECK failures.
    public var isConstraintViolation: Bool { code == SQLITE_CONSTRAINT }

    /// The database was locked by another connection for longer than the busy timeout.
    public var isBusy: Bool { code == SQLITE_BUSY || code == SQLITE_LOCKED }

    public var description: String {
        var text = "SQLite error \(code)"
        if extendedCode != code { text += " (extended \(extendedCode))" }
        text += ": \(message)"
        if let sql { text += " [SQL: \(sql)]" }
        return text
    }
}

extension SQLiteError {
    /// The error SQLite last recorded on `db`, for a call that returned `resultCode`.
    init(db: OpaquePointer?, resultCode: Int32, sql: String?) {
        let message = db.flatMap { sqlite3_errmsg($0) }.map { String(cString: $0) }
            ?? String(cString: sqlite3_errstr(resultCode))
        self.init(code: resultCode, extendedCode: resultCode, message: message, sql: sql)
    }

    static func misuse(_ message: String, sql: String? = nil) -> SQLiteError {
        SQLiteError(code: SQLITE_MISUSE, message: message, sql: sql)
    }

    static let databaseClosed = SQLiteError.misuse("the database is closed")
}
