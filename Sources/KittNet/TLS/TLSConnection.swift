import COpenSSL
import Glibc

/// Outcome of one non-blocking `read`, `write` or handshake step, on TLS or plain TCP.
public enum IOResult: Sendable, Equatable {
    /// This many plaintext bytes were read or written (a write may be partial).
    case bytes(Int)
    /// Wait until the socket is readable, then call the same operation again.
    case wantRead
    /// Wait until the socket is writable, then call the same operation again (same bytes for a write).
    case wantWrite
    /// The peer sent close_notify, or closed the TCP stream (EOF) without it.
    case closed
    /// A fatal error (protocol error, reset, ...): stop using the connection. Do not log to clients.
    case failed(String)
}

/// Outcome of one `handshake` step.
public enum TLSHandshakeResult: Sendable, Equatable {
    case complete
    case wantRead
    case wantWrite
    /// Fatal: verification failure, garbage, EOF mid-handshake... The text is for logs.
    case failed(String)
}

/// One TLS session over a non-blocking socket.
///
/// Not Sendable: it belongs to its connection's serial queue, which alone calls it. Frees its `SSL*`
/// in `deinit`; never closes the socket (the socket's owner does). Readiness-driven callers must
/// keep calling `read` until it returns `.wantRead` (or check `hasPendingData`): OpenSSL can hold
/// decrypted bytes that the socket's readiness will not announce again.
public final class TLSConnection {
    private let ssl: OpaquePointer  // SSL*, owned
    private let context: TLSContext  // keeps the context's owner alive with the connection
    /// After a fatal error OpenSSL forbids SSL_shutdown.
    private var hadFatalError = false
    private var shutdownSent = false

    init(taking ssl: OpaquePointer, context: TLSContext) {
        self.ssl = ssl
        self.context = context
    }

    deinit { SSL_free(ssl) }

    /// One non-blocking `SSL_do_handshake` step. Call again after `.wantRead` / `.wantWrite` once
    /// the socket is ready; give up on `.failed` (and put a deadline on the whole handshake).
    public func handshake() -> TLSHandshakeResult {
        ERR_clear_error()
        errno = 0
        let rc = SSL_do_handshake(ssl)
        if rc == 1 { return .complete }
        switch classify(rc, savedErrno: errno, operation: "handshake") {
        case .wantRead: return .wantRead
        case .wantWrite: return .wantWrite
        case .closed: return .failed("handshake: peer closed the connection")
        case .failed(let message): return .failed(message)
        case .bytes: return .failed("handshake: unexpected state")
        }
    }

    /// Reads decrypted bytes into `buffer` (continuing the handshake first if needed).
    public func read(into buffer: UnsafeMutableRawBufferPointer) -> IOResult {
        guard let base = buffer.baseAddress, buffer.count > 0 else { return .bytes(0) }
        ERR_clear_error()
        errno = 0
        var count = 0
        let rc = SSL_read_ex(ssl, base, buffer.count, &count)
        if rc == 1 { return .bytes(count) }
        return classify(rc, savedErrno: errno, operation: "read")
    }

    /// Encrypts and sends up to `bytes.count` bytes; `.bytes(n)` may be less than asked (partial
    /// writes are on). After `.wantWrite`, retry with the same unwritten bytes (they may move).
    public func write(_ bytes: UnsafeRawBufferPointer) -> IOResult {
        guard let base = bytes.baseAddress, bytes.count > 0 else { return .bytes(0) }
        ERR_clear_error()
        errno = 0
        var count = 0
        let rc = SSL_write_ex(ssl, base, bytes.count, &count)
        if rc == 1 { return .bytes(count) }
        return classify(rc, savedErrno: errno, operation: "write")
    }

    /// Best effort close_notify: one non-blocking `SSL_shutdown`, never waits for the peer's reply.
    /// Does nothing before the handshake completed or after a fatal error. Call before closing fd.
    /// (Writes to a dead peer raise SIGPIPE unless the process ignores it.)
    public func shutdown() {
        guard !hadFatalError, !shutdownSent, SSL_is_init_finished(ssl) == 1 else { return }
        shutdownSent = true
        ERR_clear_error()
        _ = SSL_shutdown(ssl)
        ERR_clear_error()
    }

    /// The negotiated protocol version, e.g. `"TLSv1.3"` (`"unknown"` before the handshake).
    public var negotiatedProtocol: String {
        String(cString: SSL_get_version(ssl))
    }

    /// The negotiated cipher suite name, or nil before the handshake.
    public var negotiatedCipher: String? {
        guard let cipher = SSL_get_current_cipher(ssl), let name = SSL_CIPHER_get_name(cipher) else { return nil }
        return String(cString: name)
    }

    /// True when OpenSSL holds already-received bytes that `read` can return without the socket
    /// becoming readable again.
    public var hasPendingData: Bool { SSL_has_pending(ssl) == 1 }

    /// Maps a failed `SSL_*` call: `SSL_get_error` decides; the error queue is drained either way.
    private func classify(_ rc: Int32, savedErrno: Int32, operation: String) -> IOResult {
        let code = SSL_get_error(ssl, rc)
        switch code {
        case SSL_ERROR_WANT_READ:
            return .wantRead
        case SSL_ERROR_WANT_WRITE:
            return .wantWrite
        case SSL_ERROR_ZERO_RETURN:
            ERR_clear_error()
            return .closed
        case SSL_ERROR_SYSCALL:
            hadFatalError = true
            let stack = OpenSSLErrorQueue.drain()
            if stack.isEmpty && savedErrno == 0 { return .closed }  // EOF
            let reason = savedErrno != 0 ? String(cString: strerror(savedErrno)) : "I/O error"
            return .failed(TLSError(operation: operation, stack: [reason] + stack).description)
        case SSL_ERROR_SSL:
            hadFatalError = true
            if kitt_ERR_is_unexpected_eof(ERR_peek_error()) != 0 {  // TCP EOF without close_notify
                ERR_clear_error()
                return .closed
            }
            var stack = OpenSSLErrorQueue.drain()
            let verify = SSL_get_verify_result(ssl)
            if verify != X509_V_OK {
                stack.append("verify error \(verify): \(String(cString: X509_verify_cert_error_string(verify)))")
            }
            return .failed(TLSError(operation: operation, stack: stack).description)
        default:
            hadFatalError = true
            let stack = OpenSSLErrorQueue.drain()
            return .failed(TLSError(operation: operation, stack: ["SSL_get_error \(code)"] + stack).description)
        }
    }
}

/// A connection belongs to one serial queue; the compiler refuses to send it anywhere else.
@available(*, unavailable)
extension TLSConnection: Sendable {}
