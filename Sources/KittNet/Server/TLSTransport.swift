/// TLS over a non-blocking socket: OpenSSL's want-read / want-write map straight onto the
/// connection's readiness handling.
final class TLSTransport: Transport {
    private let connection: TLSConnection

    init(context: TLSContext, fd: Int32) throws {
        connection = try context.makeConnection(fd: fd)
    }

    func handshake() -> IOOutcome {
        switch connection.handshake() {
        case .complete: return .bytes(0)
        case .wantRead: return .wantRead
        case .wantWrite: return .wantWrite
        case .failed(let reason): return .failed(reason)
        }
    }

    func read(into buffer: UnsafeMutableRawBufferPointer) -> IOOutcome {
        map(connection.read(into: buffer))
    }

    func write(_ bytes: UnsafeRawBufferPointer) -> IOOutcome {
        map(connection.write(bytes))
    }

    func shutdown() { connection.shutdown() }

    var hasBufferedInput: Bool { connection.hasPendingData }

    private func map(_ result: TLSIOResult) -> IOOutcome {
        switch result {
        case .bytes(let count): return .bytes(count)
        case .wantRead: return .wantRead
        case .wantWrite: return .wantWrite
        case .closed: return .closed
        case .failed(let reason): return .failed(reason)
        }
    }
}
