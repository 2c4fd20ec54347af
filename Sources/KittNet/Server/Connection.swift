#if canImport(Glibc)
import Glibc
#endif
import CKittSystem
import Dispatch
import KittHTTP
import KittJSON
import Synchronization

/// One client connection: reads requests as the socket becomes readable, answers them in
/// order, and writes as the socket becomes writable. Nothing here waits on the peer.
///
/// `@unchecked Sendable`: every mutable field is touched only on its loop's thread. The
/// fields other threads use (`deadline`, `streamBacklog`, the close handlers) are atomics or
/// behind a mutex.
final class Connection: @unchecked Sendable {
    enum State { case handshaking, open, streaming, lingering, closed }
    /// Whether the client's address was under its connection cap at accept; a refused
    /// connection answers its first request 503 and closes (HTTPServer.admit).
    enum Admission { case admitted, refused }

    let id: Int
    let fd: Int32
    let peer: String
    let loop: EventLoop
    let admission: Admission
    private let server: HTTPServer
    private let transport: any Transport

    private var state: State
    private var parser: HTTPRequestParser
    /// Readiness interest: reading can be paused (backpressure, a pending answer), writing
    /// is watched only while output is stuck.
    private var readSuspended = false
    private var writeArmed = false
    private var registeredEvents: UInt32 = 0
    private var outbound: [UInt8] = []
    private var outboundOffset = 0
    private var awaitingResponse = false
    private var closeAfterFlush = false
    private var peerFinished = false
    private var readWantsWrite = false
    private var writeWantsRead = false
    private var pausedForBackpressure = false
    private var servedRequests = 0
    private var headStartedAt: UInt64?
    /// Whether the first bytes of a TLS connection were checked for plain HTTP.
    private var probedForPlainHTTP = false
    /// When the body of the request being read began (the total body deadline counts from it).
    private var bodyStartedAt: UInt64?
    /// This connection counts against its address's event-stream cap until it closes.
    private var holdsStreamSlot = false
    private var lastProgressAt: UInt64 = 0

    /// Monotonic nanoseconds after which the server's sweeper times this connection out; 0: none.
    let deadline = Atomic<UInt64>(0)
    /// Bytes queued by `send` and not yet written, while streaming.
    private let streamBacklog = Atomic<Int>(0)
    private let closed = Atomic<Bool>(false)
    private let closeHandlers = Mutex<[@Sendable () -> Void]>([])

    private static let backpressureBytes = 1 << 20

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
        self.state = secure ? .handshaking : .open
        self.parser = HTTPRequestParser(limits: server.configuration.limits)
    }

    static func now() -> UInt64 { DispatchTime.now().uptimeNanoseconds }

    /// Everything queued for the peer has been written.
    private var outputFlushed: Bool { outboundOffset == outbound.count }

    /// Between requests: nothing half-read, no answer pending, nothing left to write.
    private var isBetweenRequests: Bool { parser.isIdle && !awaitingResponse && outputFlushed }

    // MARK: Lifecycle

    func start() {
        loop.execute { [self] in
            setDeadline(after: server.configuration.headerTimeout)
            registeredEvents = interest
            loop.register(self, events: registeredEvents)
        }
    }

    /// What the loop should watch for, from the read/write flags.
    private var interest: UInt32 {
        (readSuspended ? 0 : kitt_EPOLLIN | kitt_EPOLLRDHUP) | (writeArmed ? kitt_EPOLLOUT : 0)
    }

    private func updateInterest() {
        guard state != .closed else { return }
        let wanted = interest
        if wanted != registeredEvents {
            registeredEvents = wanted
            loop.update(self, events: wanted)
        }
    }

    /// Readiness from the loop.
    func handle(events: UInt32) {
        loop.assertInLoop()
        if events & (kitt_EPOLLERR | kitt_EPOLLHUP) != 0 && readSuspended {
            // The peer is gone while we were not reading (a pending answer, backpressure,
            // lingering): nothing more can reach it.
            closeNow()
            return
        }
        if events & (kitt_EPOLLIN | kitt_EPOLLRDHUP | kitt_EPOLLERR | kitt_EPOLLHUP) != 0 {
            onReadable()
        }
        if events & kitt_EPOLLOUT != 0 && state != .closed {
            onWritable()
        }
    }

    /// Closes the connection now: the loop forgets the fd, then it is closed.
    func closeNow() {
        loop.assertInLoop()
        guard state != .closed else { return }
        let wasLingering = state == .lingering
        state = .closed
        closed.store(true, ordering: .releasing)
        deadline.store(0, ordering: .relaxed)
        if !wasLingering { transport.shutdown() }
        loop.unregister(self)
        Glibc.close(fd)
        outbound = []
        parser = HTTPRequestParser(limits: server.configuration.limits)
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

    /// Called by the sweeper (through our loop) when `deadline` has passed.
    func timeoutFired() {
        loop.assertInLoop()
        let limit = deadline.load(ordering: .relaxed)
        guard state != .closed, limit != 0, limit <= Connection.now() else { return }
        if state == .handshaking { server.metrics.recordHandshake(loop: loop.index, succeeded: false) }
        if state == .open, !parser.isIdle, !awaitingResponse, outputFlushed {
            // The client started a request and did not finish it in time.
            let message = bodyStartedAt == nil ? "request not received in time" : "request body not received in time"
            respondWithError(.requestTimeout, message)
            flush()
        } else {
            closeNow()
        }
    }

    /// Graceful shutdown: idle connections close now; busy ones close after their answer.
    func beginShutdown() {
        loop.assertInLoop()
        switch state {
        case .closed, .lingering: return
        case .handshaking:
            // It may already carry a request (TLS 1.3 clients send it right after Finished):
            // let the handshake finish; `drive` closes it then unless a request is being served.
            return
        case .streaming: closeNow()
        case .open:
            if isBetweenRequests {
                closeNow()
            } else {
                closeAfterFlush = closeAfterFlush || !awaitingResponse && !outputFlushed
            }
        }
    }

    // MARK: Readiness

    func onReadable() {
        switch state {
        case .closed: return
        case .handshaking: handshake(); return
        case .lingering: discardUntilEOF(); return
        case .open, .streaming: break
        }
        if writeWantsRead {
            writeWantsRead = false
            flush()
        }
        readAvailable()
        drive()
    }

    func onWritable() {
        switch state {
        case .closed, .lingering: return
        case .handshaking: handshake(); return
        case .open, .streaming: break
        }
        if readWantsWrite {
            readWantsWrite = false
            readAvailable()
        }
        drive()
    }

    private func handshake() {
        if !probedForPlainHTTP {
            switch PlainHTTPProbe.inspect(fd: fd) {
            case .noData: break
            case .tls: probedForPlainHTTP = true
            case .plainHTTP:
                rejectPlainHTTP()
                return
            }
        }
        switch transport.handshake() {
        case .bytes:
            server.metrics.recordHandshake(loop: loop.index, succeeded: true)
            state = .open
            disarmWrite()
            setDeadline(after: server.configuration.headerTimeout)
            readAvailable()
            drive()
        case .wantRead: disarmWrite()
        case .wantWrite: armWrite()
        case .closed, .failed:
            server.metrics.recordHandshake(loop: loop.index, succeeded: false)
            closeNow()
        }
    }

    /// Reads what the socket (or TLS) has, up to a fair share per event.
    private func readAvailable() {
        var budget = 256 * 1024
        while budget > 0, state == .open || state == .streaming {
            if state == .open && (awaitingResponse || pausedForBackpressure || closeAfterFlush) {
                pauseReading()
                return
            }
            let outcome = transport.read(into: loop.scratch)
            switch outcome {
            case .bytes(let count):
                budget -= count
                lastProgressAt = Connection.now()
                if state == .open {
                    parser.append(UnsafeRawBufferPointer(rebasing: loop.scratch[0..<count]))
                }
                // A streaming connection's peer has nothing to say; its bytes are dropped.
                // A short read drained the socket: skip the read that would only say EAGAIN
                // (level-triggered epoll reports the socket again when more arrives).
                if count < loop.scratch.count && !transport.hasBufferedInput { return }
            case .wantRead:
                return
            case .wantWrite:
                readWantsWrite = true
                armWrite()
                return
            case .closed:
                peerFinished = true
                pauseReading()
                return
            case .failed:
                closeNow()
                return
            }
        }
    }

    /// Answers every complete request buffered, writes, and decides what happens next.
    private func drive() {
        processRequests()
        flush()
        guard state != .closed else { return }
        if peerFinished {
            if state == .streaming {
                closeNow()
                return
            }
            if !awaitingResponse && outputFlushed {
                closeNow()
                return
            }
        }
        if server.isShuttingDown && state == .open && isBetweenRequests {
            closeNow()
            return
        }
        if !awaitingResponse && !pausedForBackpressure && !closeAfterFlush && !peerFinished && readSuspended {
            resumeReading()
        }
        updateDeadline()
    }

    private func processRequests() {
        while state == .open && !awaitingResponse && !closeAfterFlush {
            if outbound.count - outboundOffset > Connection.backpressureBytes {
                pausedForBackpressure = true
                pauseReading()
                return
            }
            let event: HTTPParserEvent?
            do {
                event = try parser.next()
            } catch {
                respondWithError(error.status, error.message)
                return
            }
            guard let event else {
                if !parser.isReadingHead {
                    // Head done (or none begun): a body in progress is timed on progress and in total.
                    headStartedAt = nil
                    if parser.isIdle {
                        bodyStartedAt = nil
                    } else if bodyStartedAt == nil {
                        bodyStartedAt = Connection.now()
                    }
                } else if headStartedAt == nil {
                    headStartedAt = Connection.now()
                }
                return
            }
            switch event {
            case .expectContinue where admission == .refused:
                refuseOverCap()
                return
            case .expectContinue:
                outbound.append(contentsOf: HTTPResponseSerializer.continueHead)
            case .request(var request):
                headStartedAt = nil
                bodyStartedAt = nil
                servedRequests += 1
                request.remoteAddress = peer
                request.requestID = RequestID.assign(incoming: request.headers["X-Request-Id"], server: server, loop: loop)
                dispatch(request)
            }
        }
    }

    private func dispatch(_ request: HTTPRequest) {
        if admission == .refused {
            refuseOverCap()
            return
        }
        let started = Connection.now()
        let response = server.responder(request)
        deliver(response, to: request, started: started, route: response.matchedRoute)
    }

    /// `route`: the matched pattern, from the first response (a deferred one's later answer has none).
    private func deliver(_ response: HTTPResponse, to request: HTTPRequest, started: UInt64, route: Int?) {
        var response = response
        if !request.requestID.isEmpty { response.headers.set(name: "X-Request-Id", value: request.requestID) }
        switch response.body {
        case .bytes(let body):
            let keepAlive = request.wantsKeepAlive && !server.isShuttingDown
            HTTPResponseSerializer.head(
                response, version: request.version, framing: .contentLength(body.count), keepAlive: keepAlive,
                into: &outbound)
            if request.method != .head { outbound.append(contentsOf: body) }
            if !keepAlive { closeAfterFlush = true }
            server.logAccess(
                request, route: route, status: response.status.code, bytes: body.count, started: started, loop: loop.index)
        case .deferred(let start):
            awaitingResponse = true
            let promise = ResponsePromise { [self] later in
                loop.execute {
                    guard self.state != .closed else { return }
                    self.awaitingResponse = false
                    self.deliver(later, to: request, started: started, route: route)
                    self.drive()
                }
            }
            start(promise)
        case .stream(let start) where request.method == .head:
            // HEAD gets the stream's head alone; the stream is never started.
            _ = start
            let keepAlive = request.wantsKeepAlive && !server.isShuttingDown
            HTTPResponseSerializer.head(
                response, version: request.version, framing: .untilClose, keepAlive: keepAlive, into: &outbound)
            if !keepAlive { closeAfterFlush = true }
            server.logAccess(
                request, route: route, status: response.status.code, bytes: 0, started: started, loop: loop.index)
        case .stream(let start):
            guard server.streamStarting(for: peer) else {
                respondWithError(
                    .tooManyRequests,
                    "too many event streams from \(peer) (at most \(server.configuration.maxStreamsPerAddress))",
                    retryAfter: 10)
                return
            }
            holdsStreamSlot = true
            startStream(response, start, to: request, started: started, route: route)
        }
    }

    private func startStream(
        _ response: HTTPResponse, _ start: @Sendable (any ResponseStream) -> Void, to request: HTTPRequest, started: UInt64,
        route: Int?
    ) {
        var head: [UInt8] = []
        HTTPResponseSerializer.head(
            response, version: request.version, framing: .untilClose, keepAlive: false, into: &head)
        outbound.append(contentsOf: head)
        streamBacklog.add(head.count, ordering: .relaxed)
        state = .streaming
        deadline.store(0, ordering: .relaxed)
        server.logAccess(
            request, route: route, status: response.status.code, bytes: 0, started: started, loop: loop.index)
        flush()
        if state == .streaming { start(self) }
    }

    /// The answer of a connection accepted past its address's cap (HTTPServer.admit).
    private func refuseOverCap() {
        let cap = server.configuration.maxConnectionsPerAddress
        respondWithError(
            .serviceUnavailable, "too many connections from \(peer) (at most \(cap))", retryAfter: 5)
    }

    private func respondWithError(_ status: HTTPStatus, _ message: String, retryAfter seconds: Int? = nil) {
        var body: [UInt8] = []
        JSON.object(["error": .string(message)]).write(into: &body)
        var response = HTTPResponse.jsonBytes(body, status: status)
        response.headers.add(name: "Connection", value: "close")
        if let seconds { response.headers.add(name: "Retry-After", value: String(seconds)) }
        HTTPResponseSerializer.head(response, framing: .contentLength(body.count), keepAlive: false, into: &outbound)
        outbound.append(contentsOf: body)
        closeAfterFlush = true
        pauseReading()
        var rejected = HTTPRequest(method: HTTPMethod("-"), target: "-")
        rejected.remoteAddress = peer
        server.logAccess(rejected, route: nil, status: status.code, bytes: body.count, started: Connection.now(), loop: loop.index)
    }

    /// Plain HTTP on the TLS port: a plain-text 400 written straight to the socket (no TLS
    /// session exists), then the usual lingering close.
    private func rejectPlainHTTP() {
        probedForPlainHTTP = true
        let response = PlainHTTPProbe.response(port: server.port)
        _ = response.withUnsafeBytes { Glibc.send(fd, $0.baseAddress, $0.count, Int32(MSG_NOSIGNAL)) }
        server.metrics.recordHandshake(loop: loop.index, succeeded: false)
        var request = HTTPRequest(method: HTTPMethod("-"), target: "-")
        request.remoteAddress = peer
        server.logAccess(request, route: nil, status: 400, bytes: response.count, started: Connection.now(), loop: loop.index)
        Glibc.shutdown(fd, Int32(SHUT_WR))
        state = .lingering
        disarmWrite()
        deadline.store(Connection.now() + 2_000_000_000, ordering: .relaxed)
        resumeReading()
        discardUntilEOF()
    }

    // MARK: Closing after a response

    /// Half-closes and discards what the client still sends for a moment before closing.
    /// Closing at once with unread bytes in the socket makes the kernel send a reset, and the
    /// client can lose the response we just wrote (a 413 sent without reading the body, say).
    private func linger() {
        guard state == .open || state == .streaming else {
            closeNow()
            return
        }
        transport.shutdown()
        Glibc.shutdown(fd, Int32(SHUT_WR))
        state = .lingering
        disarmWrite()
        deadline.store(Connection.now() + 2_000_000_000, ordering: .relaxed)
        resumeReading()
    }

    private func discardUntilEOF() {
        var budget = 1 << 20
        while budget > 0 {
            let n = Glibc.read(fd, loop.scratch.baseAddress, loop.scratch.count)
            if n > 0 {
                budget -= n
                continue
            }
            if n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK) { return }
            if n < 0 && errno == EINTR { continue }
            break
        }
        closeNow()
    }

    // MARK: Writing

    /// Appends bytes sent to a stream; the loop flushes once per batch (EventLoop.drainStreams).
    func appendStreamBytes(_ bytes: [UInt8]) -> Bool {
        guard state == .streaming else { return false }
        outbound.append(contentsOf: bytes)
        return true
    }

    func flushStream() {
        if state == .streaming { flush() }
    }

    private func flush() {
        while outboundOffset < outbound.count, state != .closed {
            let outcome = outbound.withUnsafeBytes { all in
                transport.write(UnsafeRawBufferPointer(rebasing: all[outboundOffset...]))
            }
            switch outcome {
            case .bytes(let count):
                outboundOffset += count
                lastProgressAt = Connection.now()
                if state == .streaming { streamBacklog.subtract(count, ordering: .relaxed) }
            case .wantWrite:
                armWrite()
                return
            case .wantRead:
                writeWantsRead = true
                return
            case .closed, .failed:
                closeNow()
                return
            }
        }
        guard state != .closed else { return }
        if outbound.capacity > 64 * 1024 {
            outbound = []
        } else {
            outbound.removeAll(keepingCapacity: true)
        }
        outboundOffset = 0
        if !readWantsWrite { disarmWrite() }
        if closeAfterFlush && !awaitingResponse {
            linger()
            return
        }
        if pausedForBackpressure {
            pausedForBackpressure = false
            loop.execute { [self] in if state == .open { drive() } }
        }
    }

    private func armWrite() {
        if !writeArmed {
            writeArmed = true
            updateInterest()
        }
    }

    private func disarmWrite() {
        if writeArmed {
            writeArmed = false
            updateInterest()
        }
    }

    private func pauseReading() {
        if !readSuspended {
            readSuspended = true
            updateInterest()
        }
    }

    private func resumeReading() {
        if readSuspended {
            readSuspended = false
            updateInterest()
        }
    }

    // MARK: Deadlines

    private func setDeadline(after seconds: Double) {
        deadline.store(Connection.now() + UInt64(seconds * 1e9), ordering: .relaxed)
    }

    private func updateDeadline() {
        let config = server.configuration
        switch state {
        case .closed, .streaming:
            deadline.store(0, ordering: .relaxed)
        case .handshaking, .lingering:
            break
        case .open:
            if awaitingResponse {
                deadline.store(0, ordering: .relaxed)
            } else if let started = headStartedAt {
                deadline.store(started + UInt64(config.headerTimeout * 1e9), ordering: .relaxed)
            } else if !parser.isIdle || !outputFlushed {
                var limit = lastProgressAt + UInt64(config.headerTimeout * 1e9)
                if let bodyStartedAt {
                    // A body trickled in byte by byte still has to arrive within --body-timeout.
                    limit = min(limit, bodyStartedAt + UInt64(config.bodyTimeout * 1e9))
                }
                deadline.store(limit, ordering: .relaxed)
            } else if servedRequests == 0 {
                // A fresh connection must send its first request promptly.
                if deadline.load(ordering: .relaxed) == 0 { setDeadline(after: config.headerTimeout) }
            } else {
                setDeadline(after: config.idleTimeout)
            }
        }
    }
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
