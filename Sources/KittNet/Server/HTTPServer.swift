#if canImport(Glibc)
import Glibc
#endif
import KittBase
import Dispatch
import KittHTTP
import Synchronization

/// The HTTP/1.1 (+TLS) server: a listening socket, a few event loops, and the connections.
///
/// Accepting runs on its own queue (a DispatchSource on the listening socket); each connection
/// belongs to one event loop (an epoll instance run by its own Dispatch queue). A sweeper timer
/// enforces header, idle and handshake deadlines without a timer per connection.
public final class HTTPServer: Sendable {
    public let configuration: ServerConfiguration
    /// What every connection's state machine needs from `configuration`, converted once.
    let connectionSettings: ConnectionStateMachine.Settings
    let responder: @Sendable (HTTPRequest) -> HTTPResponse
    private let accessLog: (@Sendable (AccessRecord) -> Void)?
    private let loops: [EventLoop]
    /// Request, connection and TLS counters (per loop; see ServerMetrics).
    public let metrics: ServerMetrics
    /// A random prefix so request ids differ across restarts.
    let requestIDPrefix = RequestID.processPrefix()
    private let acceptQueue = DispatchQueue(label: "kitt.accept")

    private struct State: @unchecked Sendable {
        // DispatchSource objects are thread-safe; they are kept here only to cancel them.
        var listener: Int32 = -1
        var listenerSource: (any DispatchSourceRead)?
        var sweeper: (any DispatchSourceTimer)?
        var connections: [Int: Connection] = [:]
        var nextID = 0
        var nextLoop = 0
        var boundPort = 0
    }
    private let state = Mutex(State())
    private let shuttingDown = Atomic<Bool>(false)
    private let openConnections = Atomic<Int>(0)
    /// Signalled when the last connection closes during shutdown, which waits on it.
    private let drained = DispatchSemaphore(value: 0)
    /// Per client address: admitted connections, connections being refused, event streams.
    private let admittedPerAddress = AddressCounter()
    private let refusingPerAddress = AddressCounter()
    private let streamsPerAddress = AddressCounter()
    /// Connections past an address's cap that are still answered (503) rather than reset;
    /// beyond this many at once the address's extra connections are closed at accept.
    static let refusalsPerAddress = 8

    public init(
        configuration: ServerConfiguration,
        accessLog: (@Sendable (AccessRecord) -> Void)? = nil,
        responder: @escaping @Sendable (HTTPRequest) -> HTTPResponse
    ) {
        self.configuration = configuration
        self.connectionSettings = ConnectionStateMachine.Settings(configuration)
        self.responder = responder
        self.accessLog = accessLog
        let count = configuration.loopCount > 0 ? configuration.loopCount : max(1, sysconf(Int32(_SC_NPROCESSORS_ONLN)))
        self.loops = (0..<count).map { EventLoop(index: $0) }
        self.metrics = ServerMetrics(loopCount: count, routePatterns: configuration.routePatterns)
    }

    public var isTLS: Bool { configuration.tls != nil }

    public var isShuttingDown: Bool { shuttingDown.load(ordering: .relaxed) }
    public var connectionCount: Int { openConnections.load(ordering: .relaxed) }
    public var port: Int { state.withLock { $0.boundPort } }

    /// Binds, listens and starts accepting. Returns the bound port (useful with port 0).
    @discardableResult
    public func start() throws -> Int {
        let fd = try Socket.listen(host: configuration.host, port: configuration.port)
        let port = Socket.localPort(fd)
        let source = DispatchSource.makeReadSource(fileDescriptor: fd, queue: acceptQueue)
        // DispatchSource is thread-safe; Swift's Dispatch overlay just does not say so.
        nonisolated(unsafe) let listenerSource = source
        source.setEventHandler { [self] in acceptPending(listener: fd, source: listenerSource) }
        source.setCancelHandler { Glibc.close(fd) }
        let sweeper = DispatchSource.makeTimerSource(queue: acceptQueue)
        sweeper.schedule(deadline: .now() + .milliseconds(250), repeating: .milliseconds(250), leeway: .milliseconds(50))
        sweeper.setEventHandler { [self] in sweep() }
        state.withLock {
            $0.listener = fd
            $0.listenerSource = source
            $0.sweeper = sweeper
            $0.boundPort = port
        }
        for loop in loops { loop.start() }
        source.resume()
        sweeper.resume()
        return port
    }

    private func acceptPending(listener: Int32, source: any DispatchSourceRead) {
        while !isShuttingDown {
            let accepted: (fd: Int32, peer: String)?
            do {
                accepted = try Socket.accept(listener)
            } catch let error as SystemError where error.errno == EMFILE || error.errno == ENFILE {
                // Out of descriptors: stop accepting for a moment instead of spinning.
                source.suspend()
                nonisolated(unsafe) let paused = source
                acceptQueue.asyncAfter(deadline: .now() + .milliseconds(100)) { paused.resume() }
                return
            } catch {
                return
            }
            guard let (fd, peer) = accepted else { return }
            metrics.accepted.add(1, ordering: .relaxed)
            if openConnections.load(ordering: .relaxed) >= configuration.maxConnections {
                metrics.rejectedAtCapacity.add(1, ordering: .relaxed)
                Glibc.close(fd)
                continue
            }
            guard let admission = admit(peer) else {
                Glibc.close(fd)
                continue
            }
            let transport: any Transport
            if let tls = configuration.tls {
                guard let secure = try? TLSTransport(context: tls, fd: fd) else {
                    release(admission, of: peer)
                    Glibc.close(fd)
                    continue
                }
                transport = secure
            } else {
                transport = PlainTransport(fd: fd)
            }
            let connection = state.withLock { state -> Connection in
                state.nextID += 1
                state.nextLoop = (state.nextLoop + 1) % loops.count
                let connection = Connection(
                    id: state.nextID, fd: fd, peer: peer, loop: loops[state.nextLoop], server: self,
                    transport: transport, secure: configuration.tls != nil, admission: admission)
                state.connections[state.nextID] = connection
                return connection
            }
            openConnections.add(1, ordering: .relaxed)
            connection.start()
        }
    }

    func connectionClosed(_ connection: Connection) {
        let removed = state.withLock { $0.connections.removeValue(forKey: connection.id) != nil }
        if removed {
            let left = openConnections.subtract(1, ordering: .acquiringAndReleasing).newValue
            release(connection.admission, of: connection.peer)
            if left == 0 && isShuttingDown { drained.signal() }
        }
    }

    // MARK: Per-address fairness (accept/close and stream start/end only, never per request)

    /// Under the address's cap: admitted. Over it: answered 503 (a few at a time), else nil (closed).
    private func admit(_ peer: String) -> Connection.Admission? {
        if admittedPerAddress.acquire(peer, limit: configuration.maxConnectionsPerAddress) {
            return .admitted
        }
        if refusingPerAddress.acquire(peer, limit: HTTPServer.refusalsPerAddress) { return .refused }
        return nil
    }

    private func release(_ admission: Connection.Admission, of peer: String) {
        switch admission {
        case .admitted: admittedPerAddress.release(peer)
        case .refused: refusingPerAddress.release(peer)
        }
    }

    /// An event stream may start for `peer` (counted until `streamEnded`).
    func streamStarting(for peer: String) -> Bool {
        streamsPerAddress.acquire(peer, limit: configuration.maxStreamsPerAddress)
    }

    func streamEnded(for peer: String) { streamsPerAddress.release(peer) }

    /// Times out connections whose deadline passed; the check itself reads one atomic each.
    private func sweep() {
        let now = Connection.now()
        let expired = state.withLock { state in
            state.connections.values.filter {
                let deadline = $0.deadline.load(ordering: .relaxed)
                return deadline != 0 && deadline <= now
            }
        }
        for connection in expired {
            connection.loop.execute { connection.timeoutFired() }
        }
    }

    /// On the connection's loop, once per answer: metrics, then the access log.
    func logAccess(_ request: HTTPRequest, route: Int?, status: Int, bytes: Int, started: UInt64, loop: Int) {
        let nanoseconds = Connection.now() &- started
        metrics.recordRequest(loop: loop, route: route, method: request.method, status: status, nanoseconds: nanoseconds)
        guard let accessLog else { return }
        let label = route.flatMap { $0 >= 0 && $0 < metrics.routes.count ? metrics.routes[$0] : nil }
        accessLog(
            AccessRecord(
                method: request.method.rawValue, path: request.path, target: request.target, status: status,
                bytes: bytes, durationSeconds: Double(nanoseconds) / 1e9, peer: request.remoteAddress,
                userAgent: request.headers["User-Agent"], requestID: request.requestID,
                route: label ?? ServerMetrics.unmatchedRoute, loggedAt: RequestID.wallClock()))
    }

    /// Graceful shutdown: stop accepting, close idle and streaming connections, let requests in
    /// flight finish for up to `gracePeriod` seconds, then close whatever is left. Blocks the caller.
    public func shutdown(gracePeriod: Double = 5) {
        guard !shuttingDown.exchange(true, ordering: .acquiringAndReleasing) else { return }
        let (source, sweeper, connections) = state.withLock { state in
            defer { state.listenerSource = nil; state.sweeper = nil }
            return (state.listenerSource, state.sweeper, Array(state.connections.values))
        }
        source?.cancel()
        for connection in connections {
            connection.loop.execute { connection.beginShutdown() }
        }
        let deadline = DispatchTime.now() + gracePeriod
        // A signal left over from a count that reached 0 early only costs one more check.
        while connectionCount > 0 && DispatchTime.now() < deadline {
            _ = drained.wait(timeout: deadline)
        }
        // The sweeper runs through the grace period: lingering closes and stalled requests
        // still time out, so stop does not wait the whole period for a client that keeps its socket.
        sweeper?.cancel()
        let remaining = state.withLock { Array($0.connections.values) }
        for connection in remaining {
            connection.loop.execute { connection.closeNow() }
        }
        // Stopping a loop runs the tasks queued before it, then ends its thread.
        for loop in loops { loop.stop() }
    }
}
