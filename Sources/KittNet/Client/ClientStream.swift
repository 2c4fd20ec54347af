#if canImport(Glibc)
    import Glibc
#endif
import KittBase

/// One connected socket, plain or TLS, used by one blocking request (HTTPClient, and the
/// agent's streaming engine requests). Every wait is a poll()
/// bounded by the request's deadline; the socket itself stays non-blocking.
public final class ClientStream {
    private let fd: Int32
    /// The same plain/TLS byte streams the server uses.
    private let transport: any Transport
    private let isTLS: Bool
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
        self.isTLS = url.isTLS
        guard url.isTLS else {
            transport = PlainTransport(fd: fd)
            return
        }
        guard let tlsContext else {
            close(fd)
            throw .tls("no TLS client context")
        }
        do {
            transport = try TLSTransport(context: tlsContext, fd: fd, serverName: url.host)
        } catch {
            close(fd)
            throw .tls("\(error)")
        }
        try handshake()
    }

    deinit {
        transport.shutdown()
        close(fd)
    }

    private func handshake() throws(ClientError) {
        while true {
            switch transport.handshake() {
            case .bytes: return
            case .wantRead: try wait(POLLIN, "TLS handshake")
            case .wantWrite: try wait(POLLOUT, "TLS handshake")
            case .closed: throw .tls("peer closed the connection during the handshake")
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
            let step = bytes.withUnsafeBytes { raw in transport.write(UnsafeRawBufferPointer(rebasing: raw[offset...])) }
            switch step {
            case .bytes(let n): offset += n
            case .wantRead: try wait(POLLIN, "sending the request")
            case .wantWrite: try wait(POLLOUT, "sending the request")
            case .closed: throw .connectFailed("peer closed the connection while the request was sent")
            case .failed(let why): throw isTLS ? .tls(why) : .connectFailed(why)
            }
        }
    }

    /// Reads what is available, waiting for at least one byte; nil at end of stream.
    public func read(into buffer: inout [UInt8]) throws(ClientError) -> Int? {
        while true {
            let step = buffer.withUnsafeMutableBytes { transport.read(into: $0) }
            switch step {
            case .bytes(let n) where n > 0: return n
            case .bytes, .closed: return nil
            case .wantRead: try wait(POLLIN, "waiting for the response")
            case .wantWrite: try wait(POLLOUT, "waiting for the response")
            case .failed(let why): throw isTLS ? .tls(why) : .connectFailed(why)
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
