/// TLS over a non-blocking socket: OpenSSL's want-read / want-write map straight onto the
/// connection's readiness handling (the server's connections and kitt's own clients).
final class TLSTransport: Transport {
    private let connection: TLSConnection

    /// `serverName`: for client contexts, the name sent as SNI and verified in the certificate.
    init(context: TLSContext, fd: Int32, serverName: String? = nil) throws {
        connection = try context.makeConnection(fd: fd, serverName: serverName)
    }

    func handshake() -> IOResult {
        switch connection.handshake() {
        case .complete: return .bytes(0)
        case .wantRead: return .wantRead
        case .wantWrite: return .wantWrite
        case .failed(let reason): return .failed(reason)
        }
    }

    func read(into buffer: UnsafeMutableRawBufferPointer) -> IOResult {
        connection.read(into: buffer)
    }

    func write(_ bytes: UnsafeRawBufferPointer) -> IOResult {
        connection.write(bytes)
    }

    func shutdown() { connection.shutdown() }

    var hasBufferedInput: Bool { connection.hasPendingData }
}
