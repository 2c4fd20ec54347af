import KittBase
/// An error from PostgreSQL (or from this wrapper, with a SQLSTATE of its own choosing).
///
/// Like `SQLiteError`, carries the SQL text but never the bound arguments (they may hold
/// tokens), and never a password: every message libpq produces goes through
/// `ConnectionInfo.redact` before it lands here.
public struct PostgresError: Error, CustomStringConvertible, Sendable, Equatable {
    /// The five-character SQLSTATE (`23505` unique violation, `40001` serialization
    /// failure, ...); `08006` for a lost connection; empty when the server sent none.
    public let sqlState: String
    public let message: String
    public let detail: String?
    public let sql: String?

    public init(sqlState: String, message: String, detail: String? = nil, sql: String? = nil) {
        self.sqlState = sqlState
        self.message = message
        self.detail = detail
        self.sql = sql
    }

    /// UNIQUE, FOREIGN KEY, NOT NULL and CHECK failures (class 23).
    public var isConstraintViolation: Bool { sqlState.hasPrefix("23") }
    public var isUniqueViolation: Bool { sqlState == "23505" }
    /// Serialization failure or deadlock: the transaction may be retried as a whole.
    public var isRetryable: Bool { sqlState == "40001" || sqlState == "40P01" }
    /// The connection is unusable (class 08, or the wrapper found it broken).
    public var isConnectionFailure: Bool { sqlState.hasPrefix("08") }

    public var description: String {
        var text = "PostgreSQL error"
        if !sqlState.isEmpty { text += " \(sqlState)" }
        text += ": \(message)"
        if let detail, !detail.isEmpty { text += " (\(detail))" }
        if let sql { text += " [SQL: \(sql)]" }
        return text
    }

    /// Text holding a NUL byte, which PostgreSQL's text type cannot store (SQLSTATE 22021,
    /// what the server itself reports for it). Nothing was sent; the request's input is at fault.
    static let nulInText = PostgresError(
        sqlState: "22021", message: "text containing a NUL character (\\u0000) cannot be stored")

    /// A misuse of this wrapper (SQLSTATE class 22 "data exception" or 42 would mislead).
    static func client(_ message: String, sql: String? = nil) -> PostgresError {
        PostgresError(sqlState: "", message: message, sql: sql)
    }

    static func connectionLost(_ message: String, sql: String? = nil) -> PostgresError {
        PostgresError(sqlState: "08006", message: message, sql: sql)
    }
}

extension PostgresError: ClientFault {
    /// Only NUL in text is the client's doing; every other database error is a 500.
    public var clientMessage: String? { self == .nulInText ? message : nil }
}
