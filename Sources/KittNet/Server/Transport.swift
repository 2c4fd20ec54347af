#if canImport(Glibc)
import Glibc
#endif
import KittBase

/// The byte stream under a connection: the socket itself, or TLS over it.
protocol Transport: AnyObject {
    /// Returns true once the transport is ready for application data; until then the
    /// connection keeps calling it as the socket becomes readable or writable.
    func handshake() -> IOResult
    func read(into buffer: UnsafeMutableRawBufferPointer) -> IOResult
    func write(_ bytes: UnsafeRawBufferPointer) -> IOResult
    /// Best effort, never blocks (TLS close_notify).
    func shutdown()
    /// Bytes already read from the socket but not yet returned (TLS records OpenSSL holds).
    var hasBufferedInput: Bool { get }
}

/// Plain TCP.
final class PlainTransport: Transport {
    let fd: Int32
    init(fd: Int32) { self.fd = fd }

    func handshake() -> IOResult { .bytes(0) }

    func read(into buffer: UnsafeMutableRawBufferPointer) -> IOResult {
        while true {
            let n = Glibc.read(fd, buffer.baseAddress, buffer.count)
            if n > 0 { return .bytes(n) }
            if n == 0 { return .closed }
            switch errno {
            case EINTR: continue
            case EAGAIN, EWOULDBLOCK: return .wantRead
            case ECONNRESET, EPIPE: return .closed
            default: return .failed(SystemError("read").description)
            }
        }
    }

    func write(_ bytes: UnsafeRawBufferPointer) -> IOResult {
        while true {
            // MSG_NOSIGNAL: a vanished peer gives EPIPE instead of killing the process.
            let n = send(fd, bytes.baseAddress, bytes.count, Int32(MSG_NOSIGNAL))
            if n >= 0 { return .bytes(n) }
            switch errno {
            case EINTR: continue
            case EAGAIN, EWOULDBLOCK: return .wantWrite
            case ECONNRESET, EPIPE: return .closed
            default: return .failed(SystemError("send").description)
            }
        }
    }

    func shutdown() {}

    var hasBufferedInput: Bool { false }
}
