import KittHTTP
import KittJSON

/// Everything one HTTP connection decides — which state it is in, whether to read or to
/// watch for writability, which request to dispatch, what to write, when to time out, when
/// to half-close or close — as a value with no socket, no loop and no clock (time comes in
/// as `now`, monotonic nanoseconds). Events go in as method calls; what the connection must
/// do comes out as the returned steps, the bytes in `withPendingOutput`, `interest` and
/// `deadline`. `ConnectionShell` performs the steps: `Connection` with syscalls and TLS on
/// its loop, tests with memory (Tests/KittNetTests/EmbeddedConnection.swift).
struct ConnectionStateMachine {
    enum State: Equatable, Sendable {
        /// TLS handshake in progress (a plain TCP connection starts `.open`).
        case handshaking
        /// Reading requests and writing their answers, in order.
        case open
        /// An event stream: the head is out, bytes flow until either side ends it. What the
        /// peer sends is read and dropped.
        case streaming
        /// Half-closed after a last answer: what the peer still sends is discarded for a
        /// moment, so the kernel does not reset the connection and lose that answer.
        case lingering
        case closed
    }

    /// Whether the client's address was under its connection cap at accept; a refused
    /// connection answers its first request 503 and closes (HTTPServer.admit).
    enum Admission: Sendable { case admitted, refused }

    /// The readiness the connection wants its loop to report.
    struct Interest: Equatable, Sendable {
        var read: Bool
        var write: Bool
    }

    /// The server settings a connection's decisions depend on, in nanoseconds where timed.
    struct Settings: Sendable {
        var limits = HTTPLimits()
        var headerTimeout: UInt64 = 10_000_000_000
        var idleTimeout: UInt64 = 60_000_000_000
        var bodyTimeout: UInt64 = 60_000_000_000
        var maxConnectionsPerAddress = 256
        var maxStreamsPerAddress = 64

        /// Output queued beyond this pauses reading (and parsing) until it is written.
        static let backpressureBytes = 1 << 20
        /// How long a half-closed connection discards input before it is closed.
        static let lingerTime: UInt64 = 2_000_000_000

        init() {}

        init(_ configuration: ServerConfiguration) {
            limits = configuration.limits
            headerTimeout = UInt64(configuration.headerTimeout * 1e9)
            idleTimeout = UInt64(configuration.idleTimeout * 1e9)
            bodyTimeout = UInt64(configuration.bodyTimeout * 1e9)
            maxConnectionsPerAddress = configuration.maxConnectionsPerAddress
            maxStreamsPerAddress = configuration.maxStreamsPerAddress
        }
    }

    /// An answer the machine gave itself (an error, a refusal): logged against no request.
    struct Rejection: Equatable, Sendable {
        var status: Int
        var bytes: Int
        var started: UInt64
    }

    // MARK: Steps (what the shell does next)

    /// After a readiness report.
    enum ReadinessStep: Equatable {
        case ignore
        case handshake
        case discardInput
        /// Flush first when a write was waiting for readability (TLS), read when reading
        /// was waiting for writability (or on readability), then `drive`.
        case serve(flushFirst: Bool, read: Bool)
    }

    enum HandshakeStep: Equatable { case established, waiting, failed }

    /// What the next buffered request needs.
    enum RequestStep {
        /// Stamp the request with the peer's address and an id, call the responder and hand
        /// its answer to `respond`.
        case dispatch(HTTPRequest)
        /// The machine answered itself (an error, a refusal) and will close after it: log it.
        case answered(Rejection)
    }

    enum ResponseStep {
        /// Queued for writing (`withPendingOutput`): log it (status and body size).
        case queued(status: Int, bytes: Int)
        /// Start the handler's producer with a promise; hand its answer to `deferredArrived`.
        case deferred(@Sendable (ResponsePromise) -> Void)
        /// An event stream: reserve a stream slot, then `startStream` or `refuseStream`.
        case stream(HTTPResponse, @Sendable (any ResponseStream) -> Void)
    }

    /// After all queued output was written.
    enum DrainStep: Equatable {
        case idle
        /// The last answer is out: half-close and linger.
        case linger
        /// Output fell below the backpressure mark: drive again on a later turn of the loop.
        case resumeLater
    }

    enum TimeoutStep {
        case ignore
        /// A request that began did not finish in time: the 408 is queued; log it and flush.
        case answered(Rejection)
        case close(handshakeFailed: Bool)
    }

    // MARK: State

    let settings: Settings
    let peer: String
    let admission: Admission
    private(set) var state: State
    private(set) var parser: HTTPRequestParser
    /// Queued output; `outboundOffset` bytes of it are written.
    private var outbound: [UInt8] = []
    private var outboundOffset = 0
    /// Readiness interest: reading is paused while an answer is pending, under backpressure,
    /// before closing and after EOF; writability is watched only while output is stuck.
    private(set) var readSuspended = false
    private(set) var writeArmed = false
    /// A deferred answer is pending; requests pipelined behind it wait.
    private(set) var awaitingResponse = false
    /// The current answer is the last one: half-close once it is written.
    private(set) var closeAfterFlush = false
    /// The peer sent EOF.
    private(set) var peerFinished = false
    /// TLS: a read needs the socket writable, or a write needs it readable.
    private var readWantsWrite = false
    private var writeWantsRead = false
    private var pausedForBackpressure = false
    private(set) var servedRequests = 0
    private var headStartedAt: UInt64?
    /// When the body of the request being read began (the total body deadline counts from it).
    private var bodyStartedAt: UInt64?
    private var lastProgressAt: UInt64 = 0
    /// Whether the first bytes of a TLS connection were checked for plain HTTP.
    private(set) var probedForPlainHTTP = false
    /// The server is shutting down: answers say `Connection: close`, idle connections close.
    var shuttingDown = false
    /// When the connection times out (`timedOut`); 0: never.
    private(set) var deadline: UInt64 = 0

    init(settings: Settings, peer: String, secure: Bool, admission: Admission = .admitted) {
        self.settings = settings
        self.peer = peer
        self.admission = admission
        state = secure ? .handshaking : .open
        parser = HTTPRequestParser(limits: settings.limits)
    }

    // MARK: Predicates

    var isClosed: Bool { state == .closed }

    /// Everything queued for the peer has been written.
    var outputFlushed: Bool { outboundOffset == outbound.count }

    var pendingOutputCount: Int { outbound.count - outboundOffset }

    /// Between requests: nothing half-read, no answer pending, nothing left to write.
    var isBetweenRequests: Bool { parser.isIdle && !awaitingResponse && outputFlushed }

    var interest: Interest { Interest(read: !readSuspended, write: writeArmed) }

    /// The bytes to write next (call `wrote` with how many went out). Mutating only so the
    /// connection lends its machine in place instead of copying it for the call.
    mutating func withPendingOutput<R>(_ body: (UnsafeRawBufferPointer) -> R) -> R {
        outbound.withUnsafeBytes { body(UnsafeRawBufferPointer(rebasing: $0[outboundOffset...])) }
    }

    // MARK: Lifecycle

    /// Registered with the loop: the first request (or TLS handshake) must come promptly.
    mutating func start(now: UInt64) {
        deadline = now + settings.headerTimeout
    }

    /// Returns whether the connection was lingering (its TLS session is already shut down),
    /// or nil when it was closed already.
    mutating func close() -> Bool? {
        guard state != .closed else { return nil }
        let wasLingering = state == .lingering
        state = .closed
        deadline = 0
        outbound = []
        outboundOffset = 0
        parser = HTTPRequestParser(limits: settings.limits)
        return wasLingering
    }

    /// Graceful shutdown: true when the connection should close now (idle or streaming);
    /// a busy one closes after its answer.
    mutating func beginShutdown() -> Bool {
        shuttingDown = true
        switch state {
        case .closed, .lingering: return false
        case .handshaking:
            // It may already carry a request (TLS 1.3 clients send it right after Finished):
            // let the handshake finish; `finishDrive` closes it then unless a request is served.
            return false
        case .streaming: return true
        case .open:
            if isBetweenRequests { return true }
            closeAfterFlush = closeAfterFlush || !awaitingResponse && !outputFlushed
            return false
        }
    }

    /// The sweeper saw `deadline` pass.
    mutating func timedOut(now: UInt64) -> TimeoutStep {
        guard state != .closed, deadline != 0, deadline <= now else { return .ignore }
        if state == .open, !parser.isIdle, !awaitingResponse, outputFlushed {
            // The client started a request and did not finish it in time.
            let message = bodyStartedAt == nil ? "request not received in time" : "request body not received in time"
            return .answered(respondWithError(.requestTimeout, message, now: now))
        }
        return .close(handshakeFailed: state == .handshaking)
    }

    // MARK: Readiness

    /// The peer hung up or the socket failed: true when nothing more can reach the peer
    /// because we were not reading (a pending answer, backpressure): close at once.
    func closesOnHangup() -> Bool { readSuspended }

    mutating func readable() -> ReadinessStep {
        switch state {
        case .closed: return .ignore
        case .handshaking: return .handshake
        case .lingering: return .discardInput
        case .open, .streaming:
            let flushFirst = writeWantsRead
            writeWantsRead = false
            return .serve(flushFirst: flushFirst, read: true)
        }
    }

    mutating func writable() -> ReadinessStep {
        switch state {
        case .closed, .lingering: return .ignore
        case .handshaking: return .handshake
        case .open, .streaming:
            let read = readWantsWrite
            readWantsWrite = false
            return .serve(flushFirst: false, read: read)
        }
    }

    // MARK: TLS handshake

    var needsPlainHTTPProbe: Bool { state == .handshaking && !probedForPlainHTTP }

    /// The first bytes were peeked at: true when they are plain HTTP (`rejectPlainHTTP` next).
    mutating func probed(_ verdict: PlainHTTPProbe.Verdict) -> Bool {
        switch verdict {
        case .noData: return false
        case .tls:
            probedForPlainHTTP = true
            return false
        case .plainHTTP:
            probedForPlainHTTP = true
            return true
        }
    }

    mutating func handshakeStepped(_ result: IOResult, now: UInt64) -> HandshakeStep {
        switch result {
        case .bytes:
            state = .open
            writeArmed = false
            deadline = now + settings.headerTimeout
            return .established
        case .wantRead:
            writeArmed = false
            return .waiting
        case .wantWrite:
            writeArmed = true
            return .waiting
        case .closed, .failed:
            return .failed
        }
    }

    /// Plain HTTP on the TLS port was answered straight on the socket and the write side shut:
    /// linger like after any last answer.
    mutating func lingerAfterPlainHTTP(now: UInt64) {
        startLingering(now: now)
    }

    // MARK: Reading

    /// Whether to read (again) now; pauses reading when requests must not be parsed yet.
    mutating func shouldRead() -> Bool {
        guard state == .open || state == .streaming else { return false }
        if state == .open && (awaitingResponse || pausedForBackpressure || closeAfterFlush) {
            readSuspended = true
            return false
        }
        return true
    }

    /// Bytes from the peer. A streaming connection's peer has nothing to say: its bytes are dropped.
    mutating func received(_ bytes: UnsafeRawBufferPointer, now: UInt64) {
        lastProgressAt = now
        if state == .open { parser.append(bytes) }
    }

    /// TLS: the read needs the socket writable first.
    mutating func readNeedsWritable() {
        readWantsWrite = true
        writeArmed = true
    }

    /// EOF from the peer: answer what is buffered, then close.
    mutating func peerClosed() {
        peerFinished = true
        readSuspended = true
    }

    // MARK: Requests

    /// The next complete request buffered, or an answer the machine gave itself; nil when
    /// more bytes are needed or requests must wait (a pending answer, backpressure, closing).
    mutating func nextRequest(now: @autoclosure () -> UInt64) -> RequestStep? {
        while state == .open && !awaitingResponse && !closeAfterFlush {
            if pendingOutputCount > Settings.backpressureBytes {
                pausedForBackpressure = true
                readSuspended = true
                return nil
            }
            let event: HTTPParserEvent?
            do {
                event = try parser.next()
            } catch {
                return .answered(respondWithError(error.status, error.message, now: now()))
            }
            guard let event else {
                if !parser.isReadingHead {
                    // Head done (or none begun): a body in progress is timed on progress and in total.
                    headStartedAt = nil
                    if parser.isIdle {
                        bodyStartedAt = nil
                    } else if bodyStartedAt == nil {
                        bodyStartedAt = now()
                    }
                } else if headStartedAt == nil {
                    headStartedAt = now()
                }
                return nil
            }
            switch consume event {
            case .expectContinue where admission == .refused:
                return .answered(refuseOverCap(now: now()))
            case .expectContinue:
                outbound.append(contentsOf: HTTPResponseSerializer.continueHead)
            case .request(let request):
                headStartedAt = nil
                bodyStartedAt = nil
                servedRequests += 1
                if admission == .refused { return .answered(refuseOverCap(now: now())) }
                return .dispatch(request)
            }
        }
        return nil
    }

    /// The responder's answer to `request` (or a deferred one's later answer).
    mutating func respond(_ response: HTTPResponse, to request: HTTPRequest) -> ResponseStep
    {
        var response = response
        if !request.requestID.isEmpty { response.headers.set(name: "X-Request-Id", value: request.requestID) }
        switch response.body {
        case .bytes(let body):
            let keepAlive = request.wantsKeepAlive && !shuttingDown
            HTTPResponseSerializer.head(
                response, version: request.version, framing: .contentLength(body.count), keepAlive: keepAlive,
                into: &outbound)
            if request.method != .head { outbound.append(contentsOf: body) }
            if !keepAlive { closeAfterFlush = true }
            return .queued(status: response.status.code, bytes: body.count)
        case .deferred(let start):
            awaitingResponse = true
            return .deferred(start)
        case .stream where request.method == .head:
            // HEAD gets the stream's head alone; the stream is never started.
            let keepAlive = request.wantsKeepAlive && !shuttingDown
            HTTPResponseSerializer.head(
                response, version: request.version, framing: .untilClose, keepAlive: keepAlive, into: &outbound)
            if !keepAlive { closeAfterFlush = true }
            return .queued(status: response.status.code, bytes: 0)
        case .stream(let start):
            return .stream(response, start)
        }
    }

    /// A deferred answer arrived (the shell then hands it to `respond` and drives).
    mutating func deferredArrived() {
        awaitingResponse = false
    }

    /// The stream's head is queued and the connection streams from now on. Returns the
    /// head's size (it counts against the stream's backlog).
    mutating func startStream(_ response: HTTPResponse, to request: HTTPRequest) -> Int {
        let before = outbound.count
        HTTPResponseSerializer.head(
            response, version: request.version, framing: .untilClose, keepAlive: false, into: &outbound)
        state = .streaming
        deadline = 0
        return outbound.count - before
    }

    /// The client's address holds its maximum of event streams.
    mutating func refuseStream(now: UInt64) -> Rejection {
        respondWithError(
            .tooManyRequests, "too many event streams from \(peer) (at most \(settings.maxStreamsPerAddress))",
            retryAfter: 10, now: now)
    }

    /// Bytes sent to a stream; false once it no longer streams.
    mutating func appendStreamBytes(_ bytes: [UInt8]) -> Bool {
        guard state == .streaming else { return false }
        outbound.append(contentsOf: bytes)
        return true
    }

    /// After `nextRequest` and a flush: true when the connection should close now. Resumes
    /// reading when nothing holds it back and sets the deadline for what comes next.
    mutating func finishDrive(now: UInt64) -> Bool {
        guard state != .closed else { return false }
        if peerFinished {
            if state == .streaming { return true }
            if !awaitingResponse && outputFlushed { return true }
        }
        if shuttingDown && state == .open && isBetweenRequests { return true }
        if !awaitingResponse && !pausedForBackpressure && !closeAfterFlush && !peerFinished {
            readSuspended = false
        }
        updateDeadline(now: now)
        return false
    }

    // MARK: Writing

    mutating func wrote(_ count: Int, now: UInt64) {
        outboundOffset += count
        lastProgressAt = now
    }

    /// The socket is full: watch for writability.
    mutating func writeBlocked() {
        writeArmed = true
    }

    /// TLS: the write needs the socket readable first.
    mutating func writeNeedsReadable() {
        writeWantsRead = true
    }

    /// Everything queued is written.
    mutating func outputDrained() -> DrainStep {
        if outbound.capacity > 64 * 1024 {
            outbound = []
        } else {
            outbound.removeAll(keepingCapacity: true)
        }
        outboundOffset = 0
        if !readWantsWrite { writeArmed = false }
        if closeAfterFlush && !awaitingResponse { return .linger }
        if pausedForBackpressure {
            pausedForBackpressure = false
            return .resumeLater
        }
        return .idle
    }

    /// True: half-close now and discard input until EOF or the linger deadline. False: close
    /// now (the connection is not one that can linger).
    mutating func beginLingering(now: UInt64) -> Bool {
        guard state == .open || state == .streaming else { return false }
        startLingering(now: now)
        return true
    }

    private mutating func startLingering(now: UInt64) {
        state = .lingering
        writeArmed = false
        deadline = now + Settings.lingerTime
        readSuspended = false
    }

    // MARK: Answers the machine gives itself

    /// The answer of a connection accepted past its address's cap (HTTPServer.admit).
    private mutating func refuseOverCap(now: UInt64) -> Rejection {
        respondWithError(
            .serviceUnavailable, "too many connections from \(peer) (at most \(settings.maxConnectionsPerAddress))",
            retryAfter: 5, now: now)
    }

    /// A JSON error, `Connection: close`, then the connection lingers and closes.
    private mutating func respondWithError(_ status: HTTPStatus, _ message: String, retryAfter seconds: Int? = nil, now: UInt64)
        -> Rejection
    {
        var body: [UInt8] = []
        JSON.object(["error": .string(message)]).write(into: &body)
        var response = HTTPResponse.jsonBytes(body, status: status)
        response.headers.add(name: "Connection", value: "close")
        if let seconds { response.headers.add(name: "Retry-After", value: String(seconds)) }
        HTTPResponseSerializer.head(response, framing: .contentLength(body.count), keepAlive: false, into: &outbound)
        outbound.append(contentsOf: body)
        closeAfterFlush = true
        readSuspended = true
        return Rejection(status: status.code, bytes: body.count, started: now)
    }

    // MARK: Deadlines

    private mutating func updateDeadline(now: UInt64) {
        switch state {
        case .closed, .streaming:
            deadline = 0
        case .handshaking, .lingering:
            break
        case .open:
            if awaitingResponse {
                deadline = 0
            } else if let started = headStartedAt {
                deadline = started + settings.headerTimeout
            } else if !parser.isIdle || !outputFlushed {
                var limit = lastProgressAt + settings.headerTimeout
                if let bodyStartedAt {
                    // A body trickled in byte by byte still has to arrive within --body-timeout.
                    limit = min(limit, bodyStartedAt + settings.bodyTimeout)
                }
                deadline = limit
            } else if servedRequests == 0 {
                // A fresh connection must send its first request promptly.
                if deadline == 0 { deadline = now + settings.headerTimeout }
            } else {
                deadline = now + settings.idleTimeout
            }
        }
    }
}
