internal import CPostgres

/// One libpq connection. Not thread-safe: one thread uses it at a time (the pool hands
/// connections out one caller at a time). Every call blocks on the network, so callers on
/// an event loop go through a worker (see `PostgresPool`).
public final class PostgresConnection: @unchecked Sendable {
    private var handle: OpaquePointer?
    public let info: ConnectionInfo
    /// libpq's functions (loaded at run time, see `LibPQ`).
    let libpq: LibPQ

    /// Connects (blocking). `PQconnectdb` reads the password from the URL, `PGPASSWORD` or
    /// `~/.pgpass` and honours `sslmode`; errors name the URL with its password masked.
    /// Also throws when libpq cannot be loaded (`LibPQ`).
    public convenience init(_ info: ConnectionInfo) throws(PostgresError) {
        try self.init(info, libpq: LibPQ.shared)
    }

    init(_ info: ConnectionInfo, libpq loaded: Result<LibPQ, PostgresError>) throws(PostgresError) {
        let libpq = try loaded.get()
        self.libpq = libpq
        self.info = info
        guard let connection = libpq.PQconnectdb(info.conninfo) else {
            throw .connectionLost("cannot connect to \(info): out of memory")
        }
        guard libpq.PQstatus(connection) == CONNECTION_OK else {
            let message = info.redact(libpq.PQerrorMessage(connection).map { String(cString: $0) }?.trimmingNewlines ?? "")
            libpq.PQfinish(connection)
            throw .connectionLost("cannot connect to \(info): \(message)")
        }
        handle = connection
        // Results come back as text in UTF-8 whatever the server's default, and timestamps
        // are kitt's own text columns, so only the encoding matters.
        _ = libpq.PQsetClientEncoding(connection, "UTF8")
        kitt_pq_silence_notices(connection, libpq.PQsetNoticeProcessor)
    }

    deinit { close() }

    public func close() {
        if let handle { libpq.PQfinish(handle) }
        handle = nil
    }

    /// False once the connection has failed (the pool then drops it).
    public var isHealthy: Bool {
        guard let handle else { return false }
        return libpq.PQstatus(handle) == CONNECTION_OK
    }

    /// True between BEGIN and COMMIT/ROLLBACK (also in a failed transaction).
    public var isInTransaction: Bool {
        guard let handle else { return false }
        let status = libpq.PQtransactionStatus(handle)
        return status == PQTRANS_INTRANS || status == PQTRANS_INERROR || status == PQTRANS_ACTIVE
    }

    /// The server process serving this connection (for NOTIFY's sender pid).
    public var backendPID: Int32 { handle.map { libpq.PQbackendPID($0) } ?? 0 }

    // MARK: Statements

    /// Runs one statement with `$1…$n` parameters (`PQexecParams`, text format).
    @discardableResult
    public func query(_ sql: String, _ parameters: [PostgresValue] = []) throws(PostgresError) -> PostgresResult {
        let handle = try open(sql)
        let texts = try parameters.map { value throws(PostgresError) in try value.wireText() }
        let result = withCStrings(texts) { pointers in
            libpq.PQexecParams(handle, sql, Int32(pointers.count), nil, pointers, nil, nil, 0)
        }
        return try consume(result, sql: sql)
    }

    /// The first row, or nil.
    public func queryOne(_ sql: String, _ parameters: [PostgresValue] = []) throws(PostgresError) -> PostgresRow? {
        try query(sql, parameters).rows.first
    }

    /// Rows changed by an INSERT/UPDATE/DELETE.
    @discardableResult
    public func run(_ sql: String, _ parameters: [PostgresValue] = []) throws(PostgresError) -> Int {
        try query(sql, parameters).affectedRows
    }

    /// Runs a script of several statements without parameters (`PQexec`: migrations).
    public func execute(_ script: String) throws(PostgresError) {
        let handle = try open(script)
        _ = try consume(libpq.PQexec(handle, script), sql: script)
    }

    // MARK: Transactions

    /// Runs `body` between BEGIN and COMMIT; any error rolls back and is rethrown. A COMMIT
    /// that returns means the transaction is durable (with the server's default
    /// `synchronous_commit = on`): the same promise as the SQLite store.
    public func transaction<T>(
        isolation: Isolation = .readCommitted, _ body: (PostgresConnection) throws -> T
    ) throws -> T {
        try execute("BEGIN ISOLATION LEVEL \(isolation.rawValue)")
        let value: T
        do {
            value = try body(self)
        } catch {
            if isHealthy { try? execute("ROLLBACK") }
            throw error
        }
        try execute("COMMIT")
        return value
    }

    public enum Isolation: String, Sendable {
        case readCommitted = "READ COMMITTED"
        case repeatableRead = "REPEATABLE READ"
        case serializable = "SERIALIZABLE"
    }

    // MARK: libpq plumbing

    func open(_ sql: String) throws(PostgresError) -> OpaquePointer {
        guard let handle else { throw .connectionLost("the connection is closed", sql: sql) }
        return handle
    }

    /// Reads a PGresult into rows (or an error) and frees it.
    private func consume(_ result: OpaquePointer?, sql: String) throws(PostgresError) -> PostgresResult {
        guard let result else {
            throw lastError(sql: sql)
        }
        defer { libpq.PQclear(result) }
        switch libpq.PQresultStatus(result) {
        case PGRES_COMMAND_OK, PGRES_EMPTY_QUERY:
            return PostgresResult(rows: [], affectedRows: affectedRows(result))
        case PGRES_TUPLES_OK:
            return PostgresResult(rows: rows(result), affectedRows: affectedRows(result))
        default:
            throw error(from: result, sql: sql)
        }
    }

    private func rows(_ result: OpaquePointer) -> [PostgresRow] {
        let columnCount = Int(max(0, libpq.PQnfields(result)))
        let rowCount = Int(max(0, libpq.PQntuples(result)))
        let columns = PostgresColumns(
            names: (0..<columnCount).map { libpq.PQfname(result, Int32($0)).map { String(cString: $0) } ?? "" })
        var rows: [PostgresRow] = []
        rows.reserveCapacity(rowCount)
        for r in 0..<rowCount {
            var values: [String?] = []
            values.reserveCapacity(columnCount)
            for c in 0..<columnCount {
                if libpq.PQgetisnull(result, Int32(r), Int32(c)) != 0 {
                    values.append(nil)
                } else if let bytes = libpq.PQgetvalue(result, Int32(r), Int32(c)) {
                    // Length from libpq, not strlen: text values carry no NUL, but never trust that.
                    let length = Int(max(0, libpq.PQgetlength(result, Int32(r), Int32(c))))
                    values.append(
                        bytes.withMemoryRebound(to: UInt8.self, capacity: length) {
                            String(decoding: UnsafeBufferPointer(start: $0, count: length), as: UTF8.self)
                        })
                } else {
                    values.append(nil)
                }
            }
            rows.append(PostgresRow(values: values, columns: columns))
        }
        return rows
    }

    private func affectedRows(_ result: OpaquePointer) -> Int {
        libpq.PQcmdTuples(result).flatMap { Int(String(cString: $0)) } ?? 0
    }

    private func error(from result: OpaquePointer, sql: String) -> PostgresError {
        func field(_ code: UInt8) -> String? {
            libpq.PQresultErrorField(result, Int32(code)).map { info.redact(String(cString: $0)) }
        }
        let state = field(UInt8(ascii: "C")) ?? ""  // PG_DIAG_SQLSTATE
        let primary = field(UInt8(ascii: "M"))  // PG_DIAG_MESSAGE_PRIMARY
        let message = primary ?? info.redact(libpq.PQresultErrorMessage(result).map { String(cString: $0) }?.trimmingNewlines ?? "")
        if state.isEmpty, !isHealthy {
            return .connectionLost(message.isEmpty ? "the connection to \(info) was lost" : message, sql: sql)
        }
        return PostgresError(sqlState: state, message: message, detail: field(UInt8(ascii: "D")), sql: sql)
    }

    func lastError(sql: String?) -> PostgresError {
        let message = handle.flatMap { libpq.PQerrorMessage($0) }.map { info.redact(String(cString: $0).trimmingNewlines) } ?? ""
        if !isHealthy {
            return .connectionLost(message.isEmpty ? "the connection to \(info) was lost" : message, sql: sql)
        }
        return PostgresError(sqlState: "", message: message.isEmpty ? "unknown libpq error" : message, sql: sql)
    }
}

/// Calls `body` with NUL-terminated copies of `strings` (nil stays a NULL pointer: SQL NULL).
private func withCStrings<R>(
    _ strings: [String?], _ body: ([UnsafePointer<CChar>?]) -> R
) -> R {
    var buffers: [UnsafeMutablePointer<CChar>?] = []
    buffers.reserveCapacity(strings.count)
    defer { for buffer in buffers { buffer?.deallocate() } }
    for string in strings {
        guard let string else {
            buffers.append(nil)
            continue
        }
        let utf8 = Array(string.utf8)
        let buffer = UnsafeMutablePointer<CChar>.allocate(capacity: utf8.count + 1)
        for (i, byte) in utf8.enumerated() { buffer[i] = CChar(bitPattern: byte) }
        buffer[utf8.count] = 0
        buffers.append(buffer)
    }
    return body(buffers.map { $0.map { UnsafePointer($0) } })
}
