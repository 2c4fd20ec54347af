internal import CPostgres

/// One NOTIFY a listening connection received.
public struct PostgresNotification: Sendable, Equatable {
    public let channel: String
    public let payload: String
    /// The server process that sent it (equal to our own backend's for our own NOTIFYs).
    public let senderPID: Int32
}

extension PostgresConnection {
    /// `LISTEN channel` (the name is quoted as an identifier, so any text is safe).
    public func listen(_ channel: String) throws(PostgresError) {
        try execute("LISTEN \(try quoteIdentifier(channel))")
    }

    public func unlisten(_ channel: String) throws(PostgresError) {
        try execute("UNLISTEN \(try quoteIdentifier(channel))")
    }

    /// `pg_notify(channel, payload)`: delivered to listeners when the surrounding
    /// transaction commits (at once outside one). Payloads are limited by the server to
    /// under 8000 bytes.
    public func notify(_ channel: String, payload: String) throws(PostgresError) {
        try query("SELECT pg_notify($1, $2)", [.text(channel), .text(payload)])
    }

    /// Notifications already received, then — if there were none — waits up to
    /// `timeoutMilliseconds` for the socket to become readable and reads again. Returns an
    /// empty array on timeout. Throws when the connection is lost.
    public func notifications(timeoutMilliseconds: Int32) throws(PostgresError) -> [PostgresNotification] {
        let handle = try open("LISTEN")
        var received = drainNotifications(handle)
        if !received.isEmpty { return received }
        let socket = libpq.PQsocket(handle)
        guard socket >= 0 else { throw lastError(sql: nil) }
        let ready = kitt_pq_wait_readable(socket, timeoutMilliseconds)
        guard ready > 0 else { return [] }  // timeout, or EINTR: the caller simply waits again
        guard libpq.PQconsumeInput(handle) == 1 else { throw lastError(sql: nil) }
        received = drainNotifications(handle)
        return received
    }

    private func drainNotifications(_ handle: OpaquePointer) -> [PostgresNotification] {
        _ = libpq.PQconsumeInput(handle)
        var out: [PostgresNotification] = []
        while let notice = libpq.PQnotifies(handle) {
            out.append(
                PostgresNotification(
                    channel: notice.pointee.relname.map { String(cString: $0) } ?? "",
                    payload: notice.pointee.extra.map { String(cString: $0) } ?? "",
                    senderPID: notice.pointee.be_pid))
            libpq.PQfreemem(notice)
        }
        return out
    }

    /// `"name"` with embedded quotes doubled (`PQescapeIdentifier`).
    public func quoteIdentifier(_ name: String) throws(PostgresError) -> String {
        let handle = try open(name)
        guard !name.utf8.contains(0) else { throw .client("identifier contains a NUL byte") }
        let count = name.utf8.count
        guard let quoted = libpq.PQescapeIdentifier(handle, name, count) else { throw lastError(sql: nil) }
        defer { libpq.PQfreemem(quoted) }
        return String(cString: quoted)
    }
}
