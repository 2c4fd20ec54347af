import KittHTTP
@testable import KittNet
import Synchronization
import Testing

/// The connection's state machine without sockets (EmbeddedConnection): keep-alive,
/// pipelining, backpressure, limits, timeouts, streams, deferred answers and shutdown.
@Suite struct ConnectionStateMachineTests {
    static func get(_ path: String, _ extra: String = "") -> String {
        "GET \(path) HTTP/1.1\r\nHost: kitt\r\n\(extra)\r\n"
    }

    static var settings: ConnectionStateMachine.Settings {
        var settings = ConnectionStateMachine.Settings()
        settings.headerTimeout = 10_000_000_000
        settings.idleTimeout = 60_000_000_000
        settings.bodyTimeout = 30_000_000_000
        return settings
    }

    /// A promise handed out by a deferred response, kept for the test to fulfil.
    final class PromiseBox: Sendable {
        let promises = Mutex<[ResponsePromise]>([])
        var count: Int { promises.withLock { $0.count } }
        func fulfil(_ index: Int, with response: HTTPResponse) {
            promises.withLock { $0[index] }.succeed(response)
        }
    }

    final class StreamBox: Sendable {
        let stream = Mutex<(any ResponseStream)?>(nil)
        let closed = Atomic<Bool>(false)
        var isClosed: Bool { closed.load(ordering: .relaxed) }
        func send(_ text: String) -> Bool { stream.withLock { $0 }?.send(Array(text.utf8)) ?? false }
    }

    // MARK: Keep-alive, pipelining, HTTP/1.0, Connection: close

    @Test func keepAlive_answersInTurnAndWaitsIdleWithReadInterest() {
        let connection = EmbeddedConnection(settings: Self.settings)
        connection.peerSends(Self.get("/a"))
        var responses = connection.takeResponses()
        #expect(responses.map(\.status) == [200])
        #expect(responses.first.map { String(decoding: $0.body, as: UTF8.self) } == "ok /a")
        #expect(responses.first?.headers["Connection"] == nil)
        #expect(responses.first?.headers["X-Request-Id"] == "req-1")
        connection.peerSends(Self.get("/b"))
        responses = connection.takeResponses()
        #expect(responses.map { String(decoding: $0.body, as: UTF8.self) } == ["ok /b"])
        #expect(connection.state == .open)
        #expect(connection.machine.interest == .init(read: true, write: false))
        #expect(connection.machine.isBetweenRequests)
        // Idle after a request: the keep-alive timeout, from the last answer.
        #expect(connection.machine.deadline == connection.clock + Self.settings.idleTimeout)
        connection.advance(seconds: 59)
        #expect(connection.state == .open)
        connection.advance(seconds: 1)
        #expect(connection.state == .closed)
        #expect(connection.takeOutput().isEmpty)
    }

    @Test func pipelining_threeRequestsInOneWriteAnsweredInOrder() {
        let connection = EmbeddedConnection(settings: Self.settings)
        connection.peerSends(Self.get("/1") + Self.get("/2") + Self.get("/3"))
        let bodies = connection.takeResponses().map { String(decoding: $0.body, as: UTF8.self) }
        #expect(bodies == ["ok /1", "ok /2", "ok /3"])
        #expect(connection.logged.map(\.status) == [200, 200, 200])
        #expect(connection.logged.map(\.target) == ["/1", "/2", "/3"])
    }

    @Test func pipelining_byteAtATime() {
        let connection = EmbeddedConnection(settings: Self.settings)
        for byte in Array((Self.get("/x") + Self.get("/y")).utf8) { connection.peerSends([byte]) }
        #expect(connection.takeResponses().map { String(decoding: $0.body, as: UTF8.self) } == ["ok /x", "ok /y"])
    }

    @Test func connectionClose_answersThenHalfClosesAndLingersUntilEOF() {
        let connection = EmbeddedConnection(settings: Self.settings)
        connection.peerSends(Self.get("/bye", "Connection: close\r\n") + Self.get("/never"))
        let responses = connection.takeResponses()
        #expect(responses.count == 1)
        #expect(responses.first?.headers["Connection"] == "close")
        #expect(connection.halfClosed)
        #expect(connection.state == .lingering)
        #expect(connection.logged.count == 1)
        // What the peer still sends is discarded; its EOF closes without a second close_notify.
        connection.peerSends("more")
        #expect(connection.state == .lingering)
        connection.peerCloses()
        #expect(connection.state == .closed)
        #expect(connection.released && !connection.sentCloseNotify)
    }

    @Test func lingering_closesAtItsDeadlineWhenThePeerKeepsTheSocket() {
        let connection = EmbeddedConnection(settings: Self.settings)
        connection.peerSends(Self.get("/bye", "Connection: close\r\n"))
        #expect(connection.state == .lingering)
        connection.advance(seconds: 1.9)
        #expect(connection.state == .lingering)
        connection.advance(seconds: 0.1)
        #expect(connection.state == .closed)
    }

    @Test func http10_closesUnlessKeepAliveAsked() {
        let plain = EmbeddedConnection(settings: Self.settings)
        plain.peerSends("GET /old HTTP/1.0\r\n\r\n")
        #expect(plain.takeResponses().first?.headers["Connection"] == "close")
        #expect(plain.state == .lingering)

        let kept = EmbeddedConnection(settings: Self.settings)
        kept.peerSends("GET /old HTTP/1.0\r\nConnection: keep-alive\r\n\r\n")
        let response = kept.takeOutput()
        #expect(response.hasPrefix("HTTP/1.1 200"))
        #expect(response.contains("Connection: keep-alive\r\n"))
        #expect(kept.state == .open)
    }

    @Test func peerEOF_afterPipelinedRequestsAnswersThemThenCloses() {
        let connection = EmbeddedConnection(settings: Self.settings)
        connection.peerSends(Array((Self.get("/1") + Self.get("/2")).utf8))
        connection.peerCloses()
        #expect(connection.takeResponses().count == 2)
        #expect(connection.state == .closed)
        #expect(connection.sentCloseNotify)
    }

    // MARK: Partial writes and backpressure

    @Test func partialWrites_watchWritabilityUntilTheAnswerIsOut() {
        let body = [UInt8](repeating: UInt8(ascii: "x"), count: 100_000)
        let connection = EmbeddedConnection(settings: Self.settings) { _ in .data(body, contentType: "text/plain") }
        connection.socketAccepts(1000)
        connection.peerSends(Self.get("/big"))
        #expect(connection.unreadOutputCount == 1000)
        #expect(connection.machine.interest.write)
        #expect(connection.machine.pendingOutputCount > 0)
        // A stalled writer still counts as progress-timed: the header timeout from the last write.
        #expect(connection.machine.deadline == connection.clock + Self.settings.headerTimeout)
        connection.socketAccepts(nil)
        let responses = connection.takeResponses()
        let wholeBody = responses.first?.body == body  // (not inside #expect: it would print 100,000 bytes)
        #expect(responses.count == 1 && wholeBody)
        #expect(!connection.machine.interest.write)
        #expect(connection.machine.outputFlushed)
    }

    /// However the peer's bytes are split and however little the socket takes per write, the
    /// same pipelined requests get the same answers in the same order.
    @Test(arguments: 0..<40) func anySplitAndAnyWriteSizeGiveTheSameAnswers(seed: Int) {
        var random = UInt64(seed) &* 0x9E37_79B9_7F4A_7C15 | 1
        func next(_ bound: Int) -> Int {
            random ^= random << 13
            random ^= random >> 7
            random ^= random << 17
            return Int(random % UInt64(bound))
        }
        let requests = Self.get("/a")
            + "POST /b HTTP/1.1\r\nHost: k\r\nContent-Length: 5\r\n\r\nhello"
            + "HEAD /c HTTP/1.1\r\nHost: k\r\n\r\n"
            + "POST /d HTTP/1.1\r\nHost: k\r\nTransfer-Encoding: chunked\r\n\r\n3\r\nabc\r\n2\r\nde\r\n0\r\n\r\n"
            + Self.get("/e", "Connection: close\r\n")
        let connection = EmbeddedConnection(settings: Self.settings, readBufferSize: 1 + next(64)) { request in
            .text("\(request.method.rawValue) \(request.path) \(String(decoding: request.body, as: UTF8.self))")
        }
        var bytes = Array(requests.utf8)[...]
        while !bytes.isEmpty {
            let count = min(bytes.count, 1 + next(40))
            connection.socketAccepts(next(3) == 0 ? nil : 1 + next(200))
            connection.peerSends(Array(bytes.prefix(count)))
            bytes = bytes.dropFirst(count)
        }
        connection.socketAccepts(nil)
        let output = connection.takeOutput()
        // The answers' bodies, in order (HEAD's is not sent).
        let bodies = ["GET /a ", "POST /b hello", "POST /d abcde", "GET /e "]
        let positions = bodies.map { output.range(of: "\r\n\r\n" + $0)?.lowerBound }
        #expect(positions.allSatisfy { $0 != nil } && positions == positions.sorted { $0! < $1! })
        #expect(!output.contains("HEAD /c"))
        #expect(output.components(separatedBy: "HTTP/1.1 200 OK\r\n").count - 1 == 5)
        #expect(connection.logged.map(\.target) == ["/a", "/b", "/c", "/d", "/e"])
        #expect(connection.state == .lingering)
    }

    @Test func backpressure_pausesReadingPastOneMebibyteAndResumesWhenWritten() {
        let body = [UInt8](repeating: UInt8(ascii: "y"), count: 3 << 19)  // 1.5 MiB
        let connection = EmbeddedConnection(settings: Self.settings) { request in
            request.path == "/big" ? .data(body, contentType: "text/plain") : .text("small")
        }
        connection.socketAccepts(0)
        connection.peerSends(Self.get("/big") + Self.get("/small"))
        // The first answer is queued and stuck: the pipelined request is not parsed yet.
        #expect(connection.logged.count == 1)
        #expect(!connection.machine.interest.read)
        #expect(connection.machine.interest.write)
        connection.socketAccepts(nil)
        let responses = connection.takeResponses()
        #expect(responses.map(\.status) == [200, 200])
        #expect(responses.last?.body == Array("small".utf8))
        #expect(connection.machine.interest == .init(read: true, write: false))
    }

    @Test func tlsWriteNeedingReadability_flushesOnTheNextReadable() {
        let connection = EmbeddedConnection(settings: Self.settings)
        connection.writeOverrides = [.wantRead]
        connection.peerSends(Self.get("/a"))
        #expect(connection.takeOutput().isEmpty)
        connection.peerSends(Self.get("/b"))
        #expect(connection.takeResponses().map { String(decoding: $0.body, as: UTF8.self) } == ["ok /a", "ok /b"])
    }

    @Test func head_getsTheLengthWithoutTheBody() {
        let connection = EmbeddedConnection(settings: Self.settings) { _ in .text("twelve bytes") }
        connection.peerSends("HEAD /x HTTP/1.1\r\nHost: k\r\n\r\n" + Self.get("/y"))
        let output = connection.takeOutput()
        #expect(output.contains("Content-Length: 12\r\n\r\nHTTP/1.1 200 OK\r\n"))
        #expect(output.hasSuffix("\r\n\r\ntwelve bytes"))
        #expect(connection.logged.map(\.bytes) == [12, 12])
    }

    // MARK: Limits and timeouts

    @Test func payloadTooLarge_413ThenLingers() {
        var settings = Self.settings
        settings.limits.maxBodyBytes = 100
        let connection = EmbeddedConnection(settings: settings)
        connection.peerSends("POST /x HTTP/1.1\r\nHost: k\r\nContent-Length: 101\r\n\r\n")
        let response = connection.takeResponses().first
        #expect(response?.status == 413)
        #expect(response?.headers["Connection"] == "close")
        #expect(String(decoding: response?.body ?? [], as: UTF8.self) == #"{"error":"request body too large"}"#)
        #expect(connection.state == .lingering)
        #expect(connection.logged.map(\.status) == [413])
        #expect(connection.logged.map(\.target) == ["-"])
    }

    @Test func headersTooLarge_431() {
        var settings = Self.settings
        settings.limits.maxHeadBytes = 256
        let connection = EmbeddedConnection(settings: settings)
        connection.peerSends("GET / HTTP/1.1\r\nX-Big: \(String(repeating: "a", count: 300))\r\n\r\n")
        #expect(connection.takeResponses().first?.status == 431)
        #expect(connection.state == .lingering)
    }

    @Test func bodyTimeout_408EvenWhileBytesTrickleIn() {
        let connection = EmbeddedConnection(settings: Self.settings)
        connection.peerSends("POST /slow HTTP/1.1\r\nHost: k\r\nContent-Length: 100\r\n\r\n")
        // One byte every 5 s keeps the progress deadline (10 s) from firing; the body's total
        // deadline (30 s from its start) fires anyway.
        for _ in 0..<5 {
            connection.advance(seconds: 5)
            connection.peerSends("z")
            #expect(connection.takeOutput().isEmpty)
        }
        connection.advance(seconds: 5)
        let response = connection.takeResponses().first
        #expect(response?.status == 408)
        #expect(String(decoding: response?.body ?? [], as: UTF8.self) == #"{"error":"request body not received in time"}"#)
        #expect(connection.state == .lingering)
    }

    @Test func headerTimeout_408ForAHalfSentHead() {
        let connection = EmbeddedConnection(settings: Self.settings)
        connection.peerSends("GET /half HTTP/1.1\r\nHost: k\r\n")
        connection.advance(seconds: 9.9)
        #expect(connection.takeOutput().isEmpty)
        connection.advance(seconds: 0.1)
        let response = connection.takeResponses().first
        #expect(response?.status == 408)
        #expect(String(decoding: response?.body ?? [], as: UTF8.self) == #"{"error":"request not received in time"}"#)
    }

    @Test func freshConnection_closedSilentlyWhenNoRequestComes() {
        let connection = EmbeddedConnection(settings: Self.settings)
        connection.advance(seconds: 10)
        #expect(connection.state == .closed)
        #expect(connection.takeOutput().isEmpty)
    }

    @Test func expectContinue_sends100BeforeTheBody() {
        let connection = EmbeddedConnection(settings: Self.settings) { .text("got \($0.body.count)") }
        connection.peerSends("POST /up HTTP/1.1\r\nHost: k\r\nContent-Length: 3\r\nExpect: 100-continue\r\n\r\n")
        #expect(connection.takeOutput() == "HTTP/1.1 100 Continue\r\n\r\n")
        connection.peerSends("abc")
        #expect(connection.takeResponses().first?.body == Array("got 3".utf8))
    }

    @Test func refusedAdmission_answers503AndCloses() {
        let connection = EmbeddedConnection(settings: Self.settings, admission: .refused)
        connection.peerSends(Self.get("/a"))
        let response = connection.takeResponses().first
        #expect(response?.status == 503)
        #expect(response?.headers["Retry-After"] == "5")
        #expect(connection.state == .lingering)
    }

    // MARK: Deferred answers

    @Test func deferred_pipelinedRequestsWaitForTheAnswerInOrder() {
        let box = PromiseBox()
        let connection = EmbeddedConnection(settings: Self.settings) { request in
            request.path == "/slow" ? .deferred { promise in box.promises.withLock { $0.append(promise) } } : .text("fast")
        }
        connection.peerSends(Self.get("/slow") + Self.get("/fast"))
        #expect(box.count == 1)
        #expect(connection.takeOutput().isEmpty)
        #expect(connection.machine.awaitingResponse)
        #expect(connection.machine.deadline == 0)
        box.fulfil(0, with: .text("slow done", status: .created))
        connection.run()
        let responses = connection.takeResponses()
        #expect(responses.map(\.status) == [201, 200])
        #expect(responses.map { String(decoding: $0.body, as: UTF8.self) } == ["slow done", "fast"])
        #expect(responses.first?.headers["X-Request-Id"] == "req-1")
    }

    @Test func deferred_answerArrivingAfterThePeerLeftIsDropped() {
        let box = PromiseBox()
        let connection = EmbeddedConnection(settings: Self.settings) { _ in
            .deferred { promise in box.promises.withLock { $0.append(promise) } }
        }
        connection.peerSends(Self.get("/slow"))
        connection.peerResets()
        #expect(connection.state == .closed)
        box.fulfil(0, with: .text("too late"))
        connection.run()
        #expect(connection.takeOutput().isEmpty)
        #expect(connection.logged.isEmpty)
    }

    // MARK: Event streams

    @Test func stream_headThenEventsUntilTheClientGoesAway() {
        let box = StreamBox()
        let connection = EmbeddedConnection(settings: Self.settings) { _ in
            var response = HTTPResponse(body: .stream { stream in
                box.stream.withLock { $0 = stream }
                stream.onClose { box.closed.store(true, ordering: .relaxed) }
            })
            response.headers.add(name: "Content-Type", value: "text/event-stream")
            return response
        }
        connection.peerSends(Self.get("/events"))
        let head = connection.takeOutput()
        #expect(head.hasPrefix("HTTP/1.1 200 OK\r\n"))
        #expect(head.contains("Content-Type: text/event-stream\r\n"))
        #expect(!head.contains("Content-Length"))
        #expect(connection.state == .streaming)
        #expect(connection.machine.deadline == 0)
        #expect(box.send("data: 1\n\n") && box.send("data: 2\n\n"))
        connection.run()
        #expect(connection.takeOutput() == "data: 1\n\ndata: 2\n\n")
        #expect(connection.streamBacklog == 0)
        // What the client sends while streaming is read and dropped.
        connection.peerSends("ignored")
        #expect(connection.state == .streaming)
        connection.peerCloses()
        #expect(connection.state == .closed)
        #expect(box.isClosed)
        #expect(!box.send("data: 3\n\n"))
    }

    @Test func stream_clientResetWithEventsStillQueuedClosesAndTellsThePublisher() {
        let box = StreamBox()
        let connection = EmbeddedConnection(settings: Self.settings) { _ in
            HTTPResponse(body: .stream { stream in
                box.stream.withLock { $0 = stream }
                stream.onClose { box.closed.store(true, ordering: .relaxed) }
            })
        }
        connection.peerSends(Self.get("/events"))
        _ = connection.takeOutput()
        connection.socketAccepts(4)
        #expect(box.send("data: queued\n\n"))
        connection.run()
        #expect(connection.takeOutput() == "data")
        #expect(connection.machine.interest.write)
        #expect(connection.streamBacklog == 10)
        connection.peerResets()
        #expect(connection.state == .closed)
        #expect(box.isClosed)
        #expect(!box.send("data: late\n\n"))
    }

    @Test func stream_overTheAddressCapIs429() {
        let connection = EmbeddedConnection(settings: Self.settings) { _ in HTTPResponse(body: .stream { _ in }) }
        connection.streamSlotsLeft = 0
        connection.peerSends(Self.get("/events"))
        let response = connection.takeResponses().first
        #expect(response?.status == 429)
        #expect(response?.headers["Retry-After"] == "10")
        #expect(connection.state == .lingering)
    }

    @Test func stream_headRequestGetsTheHeadAloneAndKeepsTheConnection() {
        let started = Atomic<Bool>(false)
        let connection = EmbeddedConnection(settings: Self.settings) { _ in
            HTTPResponse(body: .stream { _ in started.store(true, ordering: .relaxed) })
        }
        connection.peerSends("HEAD /events HTTP/1.1\r\nHost: k\r\n\r\n")
        #expect(connection.takeOutput().hasPrefix("HTTP/1.1 200"))
        let streamStarted = started.load(ordering: .relaxed)
        #expect(!streamStarted)
        #expect(connection.state == .open)
    }

    // MARK: Shutdown

    @Test func shutdown_closesIdleConnectionsAndStreamsAtOnce() {
        let idle = EmbeddedConnection(settings: Self.settings)
        idle.peerSends(Self.get("/a"))
        idle.shutdown()
        #expect(idle.state == .closed)

        let streaming = EmbeddedConnection(settings: Self.settings) { _ in HTTPResponse(body: .stream { _ in }) }
        streaming.peerSends(Self.get("/events"))
        streaming.shutdown()
        #expect(streaming.state == .closed)
    }

    @Test func shutdown_drainsTheAnswerInFlightWithConnectionClose() {
        let box = PromiseBox()
        let connection = EmbeddedConnection(settings: Self.settings) { _ in
            .deferred { promise in box.promises.withLock { $0.append(promise) } }
        }
        connection.peerSends(Self.get("/slow"))
        connection.shutdown()
        #expect(connection.state == .open)
        box.fulfil(0, with: .text("done"))
        connection.run()
        let response = connection.takeResponses().first
        #expect(response?.headers["Connection"] == "close")
        #expect(response?.body == Array("done".utf8))
        #expect(connection.state == .lingering)
    }

    @Test func shutdown_letsAHandshakeFinishThenClosesUnlessARequestCame() {
        let quiet = EmbeddedConnection(settings: Self.settings, secure: true)
        quiet.handshakeResults = [.wantRead]
        quiet.peerSends([0x16])
        quiet.shutdown()
        #expect(quiet.state == .handshaking)
        quiet.peerSends([0x16])  // the handshake completes; no request follows
        #expect(quiet.state == .closed)

        // A connection that learns of the shutdown only from the server's flag (accepted as
        // shutdown began) answers with Connection: close.
        let late = EmbeddedConnection(settings: Self.settings)
        late.serverIsShuttingDown = true
        late.peerSends(Self.get("/a"))
        #expect(late.takeResponses().first?.headers["Connection"] == "close")
        #expect(late.state == .lingering)
    }

    // MARK: TLS

    @Test func tlsHandshake_followsWantReadAndWantWrite() {
        let connection = EmbeddedConnection(settings: Self.settings, secure: true)
        connection.handshakeResults = [.wantWrite, .wantRead, .bytes(0)]
        #expect(connection.state == .handshaking)
        connection.socketAccepts(0)
        connection.peerSends([0x16])  // readable: the first step wants writability
        #expect(connection.machine.interest.write)
        connection.socketAccepts(nil)  // writable: the next step wants readability
        #expect(!connection.machine.interest.write)
        #expect(connection.state == .handshaking)
        connection.peerSends([0x16])
        #expect(connection.state == .open)
        #expect(connection.handshakes == [true])
    }

    @Test func tlsHandshake_failureAndTimeoutCountAsFailedHandshakes() {
        let failing = EmbeddedConnection(settings: Self.settings, secure: true)
        failing.handshakeResults = [.failed("bad record")]
        failing.peerSends([0x16])
        #expect(failing.state == .closed)
        #expect(failing.handshakes == [false])

        let stalled = EmbeddedConnection(settings: Self.settings, secure: true)
        stalled.handshakeResults = [.wantRead]
        stalled.peerSends([0x16])
        stalled.advance(seconds: 10)
        #expect(stalled.state == .closed)
        #expect(stalled.handshakes == [false])
    }

    @Test func plainHTTPOnTLSPort_answeredInPlainTextThenLingers() {
        let connection = EmbeddedConnection(settings: Self.settings, secure: true)
        connection.probeVerdict = .plainHTTP
        connection.peerSends(Self.get("/"))
        #expect(connection.plainHTTPRejected)
        #expect(connection.takeOutput().hasPrefix("HTTP/1.1 400 Bad Request\r\n"))
        #expect(connection.state == .lingering)
        connection.peerCloses()
        #expect(connection.state == .closed)
    }
}
