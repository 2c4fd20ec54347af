import KittNet

#if canImport(Glibc)
    import Glibc
#endif

/// One connection to an engine for a streaming request: the body arrives piece by piece, so
/// the time of the first token can be measured (kitt's `HTTPClient` returns whole responses).
/// Plain or TLS; every wait is a poll() bounded by one deadline.
final class EngineConnection {
    private let fd: Int32
    private let tls: TLSConnection?
    private let deadline: Double

    init(url: URLParts, tlsContext: TLSContext?, connectTimeout: Double, timeout: Double) throws(EngineError) {
        do {
            fd = try Socket.connect(host: url.host, port: url.port, timeout: connectTimeout)
        } catch {
            throw EngineError("cannot connect to the engine at \(url.hostHeader): \(error)")
        }
        deadline = Clock.now() + timeout
        guard url.isTLS else {
            tls = nil
            return
        }
        guard let tlsContext else {
            close(fd)
            throw EngineError("no TLS context for \(url.hostHeader)")
        }
        do {
            tls = try tlsContext.makeConnection(fd: fd, serverName: url.host)
        } catch {
            close(fd)
            throw EngineError("TLS with the engine failed: \(error)")
        }
        try handshake()
    }

    deinit {
        tls?.shutdown()
        close(fd)
    }

    private func handshake() throws(EngineError) {
        guard let tls else { return }
        while true {
            switch tls.handshake() {
            case .complete: return
            case .wantRead: try wait(POLLIN, "the TLS handshake")
            case .wantWrite: try wait(POLLOUT, "the TLS handshake")
            case .failed(let why): throw EngineError("TLS with the engine failed: \(why)")
            }
        }
    }

    private func wait(_ events: Int32, _ what: String) throws(EngineError) {
        let remaining = deadline - Clock.now()
        guard remaining > 0, Socket.waitUntil(fd, events: Int16(events), timeout: remaining) else {
            throw EngineError("the engine timed out during \(what)")
        }
    }

    func writeAll(_ bytes: [UInt8]) throws(EngineError) {
        var offset = 0
        while offset < bytes.count {
            let step = bytes.withUnsafeBytes { raw in writeSome(UnsafeRawBufferPointer(rebasing: raw[offset...])) }
            switch step {
            case .bytes(let n): offset += n
            case .wantRead: try wait(POLLIN, "sending the request")
            case .wantWrite: try wait(POLLOUT, "sending the request")
            case .closed: throw EngineError("the engine closed the connection while the request was sent")
            case .failed(let why): throw EngineError("sending to the engine failed: \(why)")
            }
        }
    }

    /// Waits for bytes (bounded by the deadline); nil at the end of the stream.
    func read(into buffer: inout [UInt8]) throws(EngineError) -> Int? {
        while true {
            let step = buffer.withUnsafeMutableBytes { readSome($0) }
            switch step {
            case .bytes(let n) where n > 0: return n
            case .bytes, .closed: return nil
            case .wantRead: try wait(POLLIN, "the response")
            case .wantWrite: try wait(POLLOUT, "the response")
            case .failed(let why): throw EngineError("reading from the engine failed: \(why)")
            }
        }
    }

    private func writeSome(_ bytes: UnsafeRawBufferPointer) -> TLSIOResult {
        if let tls { return tls.write(bytes) }
        while true {
            let n = send(fd, bytes.baseAddress, bytes.count, Int32(MSG_NOSIGNAL))
            if n >= 0 { return .bytes(n) }
            switch errno {
            case EINTR: continue
            case EAGAIN, EWOULDBLOCK: return .wantWrite
            default: return .failed(String(cString: strerror(errno)))
            }
        }
    }

    private func readSome(_ buffer: UnsafeMutableRawBufferPointer) -> TLSIOResult {
        if let tls { return tls.read(into: buffer) }
        while true {
            let n = recv(fd, buffer.baseAddress, buffer.count, 0)
            if n > 0 { return .bytes(n) }
            if n == 0 { return .closed }
            switch errno {
            case EINTR: continue
            case EAGAIN, EWOULDBLOCK: return .wantRead
            default: return .failed(String(cString: strerror(errno)))
            }
        }
    }
}

/// Why a request to the engine failed (safe to log and to report to the server).
public struct EngineError: Error, Equatable, CustomStringConvertible {
    public let description: String
    public init(_ description: String) { self.description = description }
}
