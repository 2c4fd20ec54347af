import KittHTTP

/// What performs a `ConnectionStateMachine`'s steps: the socket, TLS, the responder, the
/// loop's task queue. `Connection` is the real one; tests use `EmbeddedConnection`, which
/// keeps its bytes in memory (like NIO's EmbeddedChannel). The extension below is the one
/// copy of how steps are carried out, so both run the same code.
///
/// Every method is called on the connection's loop. Calls into the machine are short and
/// never span a call back into the shell (the machine is a stored value: overlapping
/// accesses would trap).
protocol ConnectionShell: AnyObject, ResponseStream {
    var machine: ConnectionStateMachine { get set }
    /// Monotonic nanoseconds.
    func currentTime() -> UInt64
    /// Debug builds trap off the connection's loop.
    func assertOnLoop(file: StaticString, line: UInt)

    // Transport
    var readBuffer: UnsafeMutableRawBufferPointer { get }
    func transportHandshake() -> IOResult
    func transportRead(into buffer: UnsafeMutableRawBufferPointer) -> IOResult
    func transportWrite(_ bytes: UnsafeRawBufferPointer) -> IOResult
    /// Bytes already read from the socket but not yet returned (TLS records OpenSSL holds).
    var transportHasBufferedInput: Bool { get }
    /// Peeks at the first bytes of a TLS connection.
    func probeForPlainHTTP() -> PlainHTTPProbe.Verdict
    /// Writes the plain-text 400 for plain HTTP on the TLS port, logs it and shuts the write side.
    func rejectPlainHTTPOnSocket()
    /// TLS close_notify, then shutdown(SHUT_WR).
    func halfClose()
    /// Reads and drops what the peer sends; true at EOF (or an error): close then.
    func discardInput() -> Bool
    /// Frees what the connection holds once the machine closed (`sendCloseNotify`: TLS not shut yet).
    func release(sendCloseNotify: Bool)
    /// Publishes `machine.interest` and `machine.deadline` (epoll, the sweeper's atomic).
    func settle()

    // Server
    /// The server began shutting down (it may not have told this connection yet).
    var serverIsShuttingDown: Bool { get }
    func assignRequestID(_ request: inout HTTPRequest)
    func respond(to request: HTTPRequest) -> HTTPResponse
    /// Metrics and the access log for one answer.
    func log(_ request: HTTPRequest, route: Int?, status: Int, bytes: Int, started: UInt64)
    func recordHandshake(succeeded: Bool)
    /// The per-address stream cap: false when the address holds its maximum.
    func reserveStreamSlot() -> Bool
    /// Stream bytes queued (`count` > 0) or written (< 0), for the slow-reader backlog.
    func streamBacklogChanged(by count: Int)
    /// Runs `task` on the connection's loop, after the events being handled now.
    func schedule(_ task: @escaping @Sendable () -> Void)
}

extension ConnectionShell {
    // MARK: Entry points (each settles interest and deadline when done)

    /// Readiness from the loop. `hangup`: error or hang-up reported.
    func handleReadiness(readable: Bool, writable: Bool, hangup: Bool) {
        assertOnLoop(file: #fileID, line: #line)
        defer { settle() }
        if hangup && machine.closesOnHangup() {
            // The peer is gone while we were not reading (a pending answer, backpressure,
            // lingering): nothing more can reach it.
            closeNow()
            return
        }
        if readable || hangup { perform(machine.readable()) }
        if writable && !machine.isClosed { perform(machine.writable()) }
    }

    /// Called through the loop when the sweeper saw the deadline pass.
    func handleTimeout() {
        assertOnLoop(file: #fileID, line: #line)
        defer { settle() }
        switch machine.timedOut(now: currentTime()) {
        case .ignore: break
        case .answered(let rejection):
            log(rejection)
            flush()
        case .close(let handshakeFailed):
            if handshakeFailed { recordHandshake(succeeded: false) }
            closeNow()
        }
    }

    /// Graceful shutdown: idle connections close now; busy ones close after their answer.
    func handleShutdown() {
        assertOnLoop(file: #fileID, line: #line)
        defer { settle() }
        if machine.beginShutdown() { closeNow() }
    }

    /// Closes the connection now.
    func closeNow() {
        assertOnLoop(file: #fileID, line: #line)
        guard let wasLingering = machine.close() else { return }
        release(sendCloseNotify: !wasLingering)
        settle()
    }

    /// A deferred response's answer, on the loop.
    func deferredResponseArrived(_ response: HTTPResponse, to request: HTTPRequest, started: UInt64, route: Int?) {
        assertOnLoop(file: #fileID, line: #line)
        guard !machine.isClosed else { return }
        defer { settle() }
        machine.deferredArrived()
        deliver(response, to: request, started: started, route: route)
        drive()
    }

    /// Bytes sent to the stream; the loop flushes once per batch (EventLoop.drainStreams).
    func appendStreamBytes(_ bytes: [UInt8]) -> Bool {
        assertOnLoop(file: #fileID, line: #line)
        return machine.appendStreamBytes(bytes)
    }

    func flushStream() {
        assertOnLoop(file: #fileID, line: #line)
        guard machine.state == .streaming else { return }
        flush()
        settle()
    }

    // MARK: Carrying out steps

    /// The log line of an answer the machine gave itself: no method or target (`-`).
    private func log(_ rejection: ConnectionStateMachine.Rejection) {
        var request = HTTPRequest(method: HTTPMethod("-"), target: "-")
        request.remoteAddress = machine.peer
        log(request, route: nil, status: rejection.status, bytes: rejection.bytes, started: rejection.started)
    }

    private func perform(_ step: ConnectionStateMachine.ReadinessStep) {
        switch step {
        case .ignore: break
        case .handshake: handshake()
        case .discardInput: if discardInput() { closeNow() }
        case .serve(let flushFirst, let read):
            if flushFirst { flush() }
            if read { readAvailable() }
            drive()
        }
    }

    private func handshake() {
        if machine.needsPlainHTTPProbe && machine.probed(probeForPlainHTTP()) {
            // Plain HTTP on the TLS port: a plain-text 400 (no TLS session exists), then linger.
            rejectPlainHTTPOnSocket()
            machine.lingerAfterPlainHTTP(now: currentTime())
            if discardInput() { closeNow() }
            return
        }
        switch machine.handshakeStepped(transportHandshake(), now: currentTime()) {
        case .established:
            recordHandshake(succeeded: true)
            readAvailable()
            drive()
        case .waiting: break
        case .failed:
            recordHandshake(succeeded: false)
            closeNow()
        }
    }

    /// Reads what the transport has, up to a fair share per event.
    private func readAvailable() {
        let buffer = readBuffer
        var budget = 256 * 1024
        while budget > 0, machine.shouldRead() {
            switch transportRead(into: buffer) {
            case .bytes(let count):
                budget -= count
                machine.received(UnsafeRawBufferPointer(rebasing: buffer[0..<count]), now: currentTime())
                // A short read drained the socket: skip the read that would only say EAGAIN
                // (level-triggered epoll reports the socket again when more arrives).
                if count < buffer.count && !transportHasBufferedInput { return }
            case .wantRead:
                return
            case .wantWrite:
                machine.readNeedsWritable()
                return
            case .closed:
                machine.peerClosed()
                return
            case .failed:
                closeNow()
                return
            }
        }
    }

    /// Answers every complete request buffered, writes, and decides what happens next.
    private func drive() {
        noteServerShutdown()
        while let step = machine.nextRequest(now: currentTime()) {
            switch consume step {
            case .answered(let rejection): log(rejection)
            case .dispatch(var request):
                request.remoteAddress = machine.peer
                assignRequestID(&request)
                let started = currentTime()
                let response = respond(to: request)
                deliver(response, to: request, started: started, route: response.matchedRoute)
            }
        }
        flush()
        if machine.finishDrive(now: currentTime()) { closeNow() }
    }

    private func deliver(_ response: HTTPResponse, to request: HTTPRequest, started: UInt64, route: Int?) {
        noteServerShutdown()
        switch machine.respond(response, to: request) {
        case .queued(let status, let bytes):
            log(request, route: route, status: status, bytes: bytes, started: started)
        case .deferred(let start):
            start(
                ResponsePromise { [self] later in
                    schedule { [self] in deferredResponseArrived(later, to: request, started: started, route: route) }
                })
        case .stream(let response, let start):
            guard reserveStreamSlot() else {
                log(machine.refuseStream(now: currentTime()))
                return
            }
            let headBytes = machine.startStream(response, to: request)
            streamBacklogChanged(by: headBytes)
            log(request, route: route, status: response.status.code, bytes: 0, started: started)
            flush()
            if machine.state == .streaming { start(self) }
        }
    }

    /// A connection accepted while shutdown began gets no `handleShutdown`: it learns here.
    private func noteServerShutdown() {
        if !machine.shuttingDown && serverIsShuttingDown { machine.shuttingDown = true }
    }

    private func flush() {
        while !machine.outputFlushed && !machine.isClosed {
            let outcome = machine.withPendingOutput { transportWrite($0) }
            switch outcome {
            case .bytes(let count):
                machine.wrote(count, now: currentTime())
                if machine.state == .streaming { streamBacklogChanged(by: -count) }
            case .wantWrite:
                machine.writeBlocked()
                return
            case .wantRead:
                machine.writeNeedsReadable()
                return
            case .closed, .failed:
                closeNow()
                return
            }
        }
        guard !machine.isClosed else { return }
        switch machine.outputDrained() {
        case .idle: break
        case .linger:
            if machine.beginLingering(now: currentTime()) {
                halfClose()
            } else {
                closeNow()
            }
        case .resumeLater:
            schedule { [self] in
                assertOnLoop(file: #fileID, line: #line)
                guard machine.state == .open else { return }
                drive()
                settle()
            }
        }
    }
}
