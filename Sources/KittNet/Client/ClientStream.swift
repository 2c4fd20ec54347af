#if canImport(Glibc)
    import Glibc
#endif

/// One connected socket, plain or TLS, used by one blocking request (HTTPClient, and the
/// agent's streaming engine requests). Every wait is a poll()
/// bounded by the request's deadline; the socket itself stays non-blocking.
public final class ClientStream {
    private let fd: Int32
    private let tls: TLSConnection?
    private let deadline: Deadline

    /// Connects (bounded by `connectTimeout`); every later wait (the https handshake with SNI
    /// and host name verification, sending, the response) shares one deadline `readTimeout`
    /// seconds after the connect.
    public init(url: URLParts, tlsContext: TLSContext?, connectTimeout: Double, readTimeout: Double) throws(ClientError) {
        let fd: Int32
        do {
            fd = try Socket.connect(host: url.host, port: url.port, timeout: connectTimeout)
        } catch let error as SystemError {
            if error.errno == ETIMEDOUT { throw .timeout("connecting to \(url.hostHeader)") }
            throw .connectFailed(error.description)
        } catch {
            throw .connectFailed("\(error)")
        }
        self.fd = fd
        self.deadline = Deadline(secondsFromNow: readTimeout)
        guard url.isTLS else {
            tls = nil
            return
        }
        guard let tlsContext else {
            close(fd)
            throw .tls("no TLS client context")
        }
        do {
            tls = try tlsContext.makeConnection(fd: fd, serverName: url.host)
        } catch {
            close(fd)
            throw .tls(error.description)
        }
        try handshake()
    }

    deinit {
        tls?.shutdown()
        close(fd)
    }

    private func handshake() throws(ClientError) {
        guard let tls else { return }
        while true {
            switch tls.handshake() {
            case .complete: return
            case .wantRead: try wait(POLLIN, "TLS handshake")
            case .wantWrite: try wait(POLLOUT, "TLS handshake")
            case .failed(let why): throw .tls(why)
            }
        }
    }

    private func wait(_ events: Int32, _ what: String) throws(ClientError) {
        let remaining = deadline.remaining
        guard remaining > 0, Socket.waitUntil(fd, events: Int16(events), timeout: remaining) else {
            throw .timeout(what)
        }
    }

    /// Sends every byte or throws.
    public func writeAll(_ bytes: [UInt8]) throws(ClientError) {
        var offset = 0
        while offset < bytes.count {
            let step = bytes.withUnsafeBytes { raw in writeSome(UnsafeRawBufferPointer(rebasing: raw[offset...])) }
            switch step {
            case .bytes(let n): offset += n
            case .wantRead: try wait(POLLIN, "sending the request")
            case .wantWrite: try wait(POLLOUT, "sending the request")
            case .closed: throw .connectFailed("peer closed the connection while the request was sent")
            case .failed(let why): throw tls == nil ? .connectFailed(why) : .tls(why)
            }
        }
    }

    /// Reads what is available, waiting for at least one byte; nil at end of stream.
    public func read(into buffer: inout [UInt8]) throws(ClientError) -> Int? {
        while true {
            let step = buffer.withUnsafeMutableBytes { readSome($0) }
            switch step {
            case .bytes(let n) where n > 0: return n
            case .bytes, .closed: return nil
            case .wantRead: try wait(POLLIN, "waiting for the response")
            case .wantWrite: try wait(POLLOUT, "waiting for the response")
            case .failed(let why): throw tls == nil ? .connectFailed(why) : .tls(why)
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
            default: return .failed(SystemError("send").description)
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
            default: return .failed(SystemError("recv").description)
            }
        }
    }
}

/// A point on the monotonic clock.
struct Deadline {
    let at: Double

    init(secondsFromNow: Double) { at = Deadline.now() + secondsFromNow }

    var remaining: Double { at - Deadline.now() }

    static func now() -> Double {
        var spec = timespec()
        clock_gettime(CLOCK_MONOTONIC, &spec)
        return Double(spec.tv_sec) + Double(spec.tv_nsec) / 1e9
    }
}
