import KittHTTP
@testable import KittNet

/// A server connection with no socket and no loop (like NIO's EmbeddedChannel): the real
/// `ConnectionStateMachine`, driven by the same `ConnectionShell` code as `Connection`, over
/// in-memory bytes. A test plays the peer (`peerSends`, `peerCloses`, `socketAccepts`), the
/// clock (`advance`) and the server (`responder`, `shutdown`), then reads what was written.
///
/// `run` stands in for the level-triggered loop: it runs scheduled tasks and reports readiness
/// for as long as the connection's interest matches something ready.
final class EmbeddedConnection: ConnectionShell, @unchecked Sendable {
    var machine: ConnectionStateMachine
    /// The fake monotonic clock, in nanoseconds.
    private(set) var clock: UInt64 = 1_000_000_000
    var responder: (HTTPRequest) -> HTTPResponse
    /// What the connection logged, in order.
    struct LoggedAnswer {
        let target: String
        let status: Int
        let bytes: Int
    }
    private(set) var logged: [LoggedAnswer] = []
    private(set) var handshakes: [Bool] = []
    /// The peer's bytes not yet read by the connection, and whether it sent EOF after them.
    private var inbound: [UInt8] = []
    private var inboundEOF = false
    /// Bytes written and not yet taken by `takeOutput`; everything written ever.
    private var unreadOutput: [UInt8] = []
    private(set) var writeCount = 0
    /// How many more bytes the socket takes before a write would block; nil: any number.
    private var writeCapacity: Int?
    /// The peer reset the connection: writes fail.
    private var reset = false
    private(set) var halfClosed = false
    private(set) var released = false
    private(set) var sentCloseNotify = false
    private(set) var plainHTTPRejected = false
    var serverIsShuttingDown = false
    var streamSlotsLeft = Int.max
    private(set) var streamBacklog = 0
    /// TLS: what successive handshake steps return (then `.bytes(0)`: done), and what the
    /// next writes return instead of writing.
    var handshakeResults: [IOResult] = []
    var probeVerdict: PlainHTTPProbe.Verdict = .tls
    var writeOverrides: [IOResult] = []
    private var tasks: [@Sendable () -> Void] = []
    private var closeHandlers: [@Sendable () -> Void] = []
    let readBuffer: UnsafeMutableRawBufferPointer

    init(
        settings: ConnectionStateMachine.Settings = .init(), secure: Bool = false,
        admission: ConnectionStateMachine.Admission = .admitted, readBufferSize: Int = 64 * 1024,
        responder: @escaping (HTTPRequest) -> HTTPResponse = { .text("ok " + $0.path) }
    ) {
        machine = ConnectionStateMachine(settings: settings, peer: "192.0.2.7", secure: secure, admission: admission)
        readBuffer = .allocate(byteCount: readBufferSize, alignment: 16)
        self.responder = responder
        machine.start(now: clock)
    }

    deinit { readBuffer.deallocate() }

    // MARK: Playing the peer, the clock and the server

    func peerSends(_ text: String) { peerSends(Array(text.utf8)) }

    func peerSends(_ bytes: [UInt8]) {
        inbound += bytes
        run()
    }

    func peerCloses() {
        inboundEOF = true
        run()
    }

    /// The peer is gone for good: hang-up reported, writes fail.
    func peerResets() {
        reset = true
        inboundEOF = true
        run()
    }

    /// The socket takes `bytes` more (nil: any number), as the peer reads.
    func socketAccepts(_ bytes: Int?) {
        writeCapacity = bytes
        run()
    }

    /// Time passes; the sweeper fires when the deadline is reached.
    func advance(seconds: Double) {
        clock += UInt64((seconds * 1e9).rounded())
        if machine.deadline != 0 && machine.deadline <= clock { handleTimeout() }
        run()
    }

    func shutdown() {
        serverIsShuttingDown = true
        handleShutdown()
        run()
    }

    /// Runs the loop until nothing is ready.
    func run() {
        for _ in 0..<10_000 {
            if !tasks.isEmpty {
                let batch = tasks
                tasks = []
                for task in batch { task() }
                continue
            }
            guard !machine.isClosed else { return }
            let interest = machine.interest
            let readable = interest.read && (!inbound.isEmpty || inboundEOF)
            let writable = interest.write && writeCapacity != 0
            // Like EPOLLHUP, a reset is reported whatever the interest.
            guard readable || writable || reset else { return }
            handleReadiness(readable: readable, writable: writable, hangup: reset)
        }
        preconditionFailure("the embedded connection does not settle")
    }

    // MARK: Reading what the connection did

    var unreadOutputCount: Int { unreadOutput.count }

    /// Bytes written since the last call.
    func takeOutput() -> String {
        defer { unreadOutput = [] }
        return String(decoding: unreadOutput, as: UTF8.self)
    }

    /// The complete responses written since the last call (`takeOutput` as parsed responses).
    func takeResponses(headRequest: Bool = false) -> [HTTPResponseParser.ParsedResponse] {
        var bytes = unreadOutput
        unreadOutput = []
        var responses: [HTTPResponseParser.ParsedResponse] = []
        while !bytes.isEmpty {
            var parser = HTTPResponseParser(isHeadRequest: headRequest)
            guard (try? parser.append(bytes)) != nil,
                let response = try? parser.complete(peerClosed: machine.isClosed || halfClosed)
            else { break }
            responses.append(response)
            bytes = parser.bytesAfterResponse
        }
        return responses
    }

    var state: ConnectionStateMachine.State { machine.state }

    // MARK: ConnectionShell

    func currentTime() -> UInt64 { clock }
    func assertOnLoop(file: StaticString, line: UInt) {}

    /// Each step takes what the peer sent (its handshake records).
    func transportHandshake() -> IOResult {
        inbound = []
        return handshakeResults.isEmpty ? .bytes(0) : handshakeResults.removeFirst()
    }

    func transportRead(into buffer: UnsafeMutableRawBufferPointer) -> IOResult {
        if inbound.isEmpty { return inboundEOF ? .closed : .wantRead }
        let count = min(buffer.count, inbound.count)
        buffer.copyBytes(from: inbound[0..<count])
        inbound.removeFirst(count)
        return .bytes(count)
    }

    func transportWrite(_ bytes: UnsafeRawBufferPointer) -> IOResult {
        if !writeOverrides.isEmpty { return writeOverrides.removeFirst() }
        if reset { return .closed }
        let count = min(bytes.count, writeCapacity ?? Int.max)
        if count == 0 { return .wantWrite }
        if let capacity = writeCapacity { writeCapacity = capacity - count }
        unreadOutput += bytes[0..<count]
        writeCount += 1
        return .bytes(count)
    }

    var transportHasBufferedInput: Bool { false }
    func probeForPlainHTTP() -> PlainHTTPProbe.Verdict { probeVerdict }

    func rejectPlainHTTPOnSocket() {
        plainHTTPRejected = true
        unreadOutput += PlainHTTPProbe.response(port: 8443)
        halfClosed = true
    }

    func halfClose() { halfClosed = true }

    func discardInput() -> Bool {
        inbound = []
        return inboundEOF
    }

    func release(sendCloseNotify: Bool) {
        released = true
        sentCloseNotify = sendCloseNotify
        let handlers = closeHandlers
        closeHandlers = []
        for handler in handlers { handler() }
    }

    func settle() {}

    func assignRequestID(_ request: inout HTTPRequest) {
        if request.requestID.isEmpty { request.requestID = "req-\(logged.count + 1)" }
    }

    func respond(to request: HTTPRequest) -> HTTPResponse { responder(request) }
    func log(_ request: HTTPRequest, route: Int?, status: Int, bytes: Int, started: UInt64) {
        logged.append(LoggedAnswer(target: request.target, status: status, bytes: bytes))
    }
    func recordHandshake(succeeded: Bool) { handshakes.append(succeeded) }

    func reserveStreamSlot() -> Bool {
        guard streamSlotsLeft > 0 else { return false }
        streamSlotsLeft -= 1
        return true
    }

    func streamBacklogChanged(by count: Int) { streamBacklog += count }
    func schedule(_ task: @escaping @Sendable () -> Void) { tasks.append(task) }
}

extension EmbeddedConnection: ResponseStream {
    /// Like `Connection.send`: queued, then appended and flushed on the loop's next turn.
    func send(_ bytes: [UInt8]) -> Bool {
        guard !released else { return false }
        streamBacklog += bytes.count
        schedule { [self] in if appendStreamBytes(bytes) { flushStream() } }
        return true
    }

    func close() { schedule { [self] in closeNow() } }

    func onClose(_ handler: @escaping @Sendable () -> Void) {
        if released { handler() } else { closeHandlers.append(handler) }
    }
}
