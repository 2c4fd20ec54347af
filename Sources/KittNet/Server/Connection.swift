#if canImport(Glibc)
import Glibc
#endif
import CKittSystem
import Dispatch
import KittHTTP
import Synchronization

/// One client connection: the socket, its transport (TLS or plain), its loop and its server,
/// carrying out what its `ConnectionStateMachine` decides (the steps themselves are in
/// `ConnectionShell`). Nothing here waits on the peer.
///
/// `@unchecked Sendable`: `machine` and `registeredEvents` are touched only on the loop's
/// thread (debug builds assert it at every entry point). The fields other threads use
/// (`deadline`, `streamBacklog`, `closed`, the close handlers) are atomics or behind a mutex.
final class Connection: @unchecked Sendable {
    typealias Admission = ConnectionStateMachine.Admission

    let id: Int
    let fd: Int32
    let peer: String
    let loop: EventLoop
    let admission: Admission
    private let server: HTTPServer
    private let transport: any Transport

    var machine: ConnectionStateMachine
    /// The epoll events last registered for the fd.
    private var registeredEvents: UInt32 = 0
    /// This connection counts against its address's event-stream cap until it closes.
    private var holdsStreamSlot = false

    /// Monotonic nanoseconds after which the server's sweeper times this connection out; 0: none.
    let deadline = Atomic<UInt64>(0)
    /// Bytes queued by `send` and not yet written, while streaming.
    private let streamBacklog = Atomic<Int>(0)
    private let closed = Atomic<Bool>(false)
    private let closeHandlers = Mutex<[@Sendable () -> Void]>([])

    init(
        id: Int, fd: Int32, peer: String, loop: EventLoop, server: HTTPServer, transport: any Transport, secure: Bool,
        admission: Admission = .admitted
    ) {
        self.id = id
        self.admission = admission
        self.fd = fd
        self.peer = peer
        self.loop = loop
        self.server = server
        self.transport = transport
        self.machine = ConnectionStateMachine(
            settings: server.connectionSettings, peer: peer, secure: secure, admission: admission)
    }

    static func now() -> UInt64 { DispatchTime.now().uptimeNanoseconds }

    // MARK: Entry points from the loop, the server and the sweeper

    func start() {
        loop.execute { [self] in
            loop.assertInLoop()
            machine.start(now: Connection.now())
            registeredEvents = Connection.epollEvents(machine.interest)
            loop.register(self, events: registeredEvents)
            deadline.store(machine.deadline, ordering: .relaxed)
        }
    }

    /// Readiness from the loop.
    func handle(events: UInt32) {
        handleReadiness(
            readable: events & (kitt_EPOLLIN | kitt_EPOLLRDHUP | kitt_EPOLLERR | kitt_EPOLLHUP) != 0,
            writable: events & kitt_EPOLLOUT != 0,
            hangup: events & (kitt_EPOLLERR | kitt_EPOLLHUP) != 0)
    }

    /// Called by the sweeper (through our loop) when `deadline` has passed.
    func timeoutFired() { handleTimeout() }

    /// Graceful shutdown: idle connections close now; busy ones close after their answer.
    func beginShutdown() { handleShutdown() }

    private static func epollEvents(_ interest: ConnectionStateMachine.Interest) -> UInt32 {
        (interest.read ? kitt_EPOLLIN | kitt_EPOLLRDHUP : 0) | (interest.write ? kitt_EPOLLOUT : 0)
    }
}

extension Connection: ConnectionShell {
    func currentTime() -> UInt64 { Connection.now() }

    @inline(__always)
    func assertOnLoop(file: StaticString, line: UInt) { loop.assertInLoop(file: file, line: line) }

    var readBuffer: UnsafeMutableRawBufferPointer { loop.scratch }
    func transportHandshake() -> IOResult { transport.handshake() }
    func transportRead(into buffer: UnsafeMutableRawBufferPointer) -> IOResult { transport.read(into: buffer) }
    func transportWrite(_ bytes: UnsafeRawBufferPointer) -> IOResult { transport.write(bytes) }
    var transportHasBufferedInput: Bool { transport.hasBufferedInput }
    func probeForPlainHTTP() -> PlainHTTPProbe.Verdict { PlainHTTPProbe.inspect(fd: fd) }

    func rejectPlainHTTPOnSocket() {
        let response = PlainHTTPProbe.response(port: server.port)
        _ = response.withUnsafeBytes { Glibc.send(fd, $0.baseAddress, $0.count, Int32(MSG_NOSIGNAL)) }
        server.metrics.recordHandshake(loop: loop.index, succeeded: false)
        var request = HTTPRequest(method: HTTPMethod("-"), target: "-")
        request.remoteAddress = peer
        server.logAccess(request, route: nil, status: 400, bytes: response.count, started: Connection.now(), loop: loop.index)
        Glibc.shutdown(fd, Int32(SHUT_WR))
    }

    func halfClose() {
        transport.shutdown()
        Glibc.shutdown(fd, Int32(SHUT_WR))
    }

    func discardInput() -> Bool {
        var budget = 1 << 20
        while budget > 0 {
            let n = Glibc.read(fd, loop.scratch.baseAddress, loop.scratch.count)
            if n > 0 {
                budget -= n
                continue
            }
            if n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK) { return false }
            if n < 0 && errno == EINTR { continue }
            break
        }
        return true
    }

    /// The loop forgets the fd, then it is closed; the server and the stream's watchers are told.
    func release(sendCloseNotify: Bool) {
        closed.store(true, ordering: .releasing)
        deadline.store(0, ordering: .relaxed)
        if sendCloseNotify { transport.shutdown() }
        loop.unregister(self)
        Glibc.close(fd)
        server.connectionClosed(self)
        if holdsStreamSlot {
            holdsStreamSlot = false
            server.streamEnded(for: peer)
        }
        let handlers = closeHandlers.withLock { handlers -> [@Sendable () -> Void] in
            defer { handlers = [] }
            return handlers
        }
        for handler in handlers { handler() }
    }

    func settle() {
        deadline.store(machine.deadline, ordering: .relaxed)
        guard !machine.isClosed else { return }
        let wanted = Connection.epollEvents(machine.interest)
        if wanted != registeredEvents {
            registeredEvents = wanted
            loop.update(self, events: wanted)
        }
    }

    var serverIsShuttingDown: Bool { server.isShuttingDown }

    func assignRequestID(_ request: inout HTTPRequest) {
        request.requestID = RequestID.assign(incoming: request.headers["X-Request-Id"], server: server, loop: loop)
    }

    func respond(to request: HTTPRequest) -> HTTPResponse { server.responder(request) }

    func log(_ request: HTTPRequest, route: Int?, status: Int, bytes: Int, started: UInt64) {
        server.logAccess(request, route: route, status: status, bytes: bytes, started: started, loop: loop.index)
    }

    func recordHandshake(succeeded: Bool) {
        server.metrics.recordHandshake(loop: loop.index, succeeded: succeeded)
    }

    func reserveStreamSlot() -> Bool {
        guard server.streamStarting(for: peer) else { return false }
        holdsStreamSlot = true
        return true
    }

    func streamBacklogChanged(by count: Int) {
        streamBacklog.add(count, ordering: .relaxed)
    }

    func schedule(_ task: @escaping @Sendable () -> Void) { loop.execute(task) }
}

extension Connection: ResponseStream {
    func close() {
        loop.execute { [self] in closeNow() }
    }

    func send(_ bytes: [UInt8]) -> Bool {
        guard !closed.load(ordering: .acquiring) else { return false }
        let backlog = streamBacklog.add(bytes.count, ordering: .relaxed).newValue
        if backlog > server.configuration.maxStreamBacklogBytes {
            // Too slow a reader: drop it rather than buffer without bound or slow publishers.
            server.metrics.streamDrops.add(1, ordering: .relaxed)
            loop.execute { [self] in closeNow() }
            return false
        }
        loop.enqueueStreamBytes(bytes, for: self)
        return true
    }

    func onClose(_ handler: @escaping @Sendable () -> Void) {
        let runNow = closeHandlers.withLock { handlers -> Bool in
            if closed.load(ordering: .acquiring) { return true }
            handlers.append(handler)
            return false
        }
        if runNow { handler() }
    }
}
