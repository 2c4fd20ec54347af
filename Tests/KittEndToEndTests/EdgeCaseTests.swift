import Foundation
import KittNet
import KittTestSupport
import Testing

/// Less common but legal (or hostile) client behaviour that real clients and proxies produce.
@Suite(.serialized) struct EdgeCaseTests {
    @Test func pipelinedRequestAfterAnError_isNotAnswered() throws {
        let server = try E2E.server()
        defer { server.stop() }
        let client = try server.connect()
        try client.send(
            E2E.get("/api/v1/health") + "GET /bad path HTTP/1.1\r\nHost: x\r\n\r\n" + E2E.get("/api/v1/version"))
        #expect(try client.readResponse().status == 200)
        #expect(try client.readResponse().status == 400)
        #expect(try client.readUntilClose(timeout: 5).isEmpty)
    }

    @Test func pipelinedRequestAfterConnectionClose_isNotAnswered() throws {
        let server = try E2E.server()
        defer { server.stop() }
        let client = try server.connect()
        try client.send(E2E.get("/api/v1/health", extra: "Connection: close\r\n") + E2E.get("/api/v1/version"))
        let first = try client.readResponse()
        #expect(first.status == 200)
        #expect(first.headers["Connection"] == "close")
        #expect(try client.readUntilClose(timeout: 5).isEmpty)
    }

    @Test func halfClosedClient_stillGetsItsPipelinedAnswers() throws {
        let server = try E2E.server(insecure: true)
        defer { server.stop() }
        let client = try server.connect()
        try client.send(E2E.get("/api/v1/health") + E2E.get("/api/v1/version"))
        shutdown(client.fd, Int32(SHUT_WR))
        #expect(try client.readResponse().status == 200)
        #expect(try client.readResponse().status == 200)
        #expect(try client.readUntilClose(timeout: 5).isEmpty)
    }

    @Test func headOnTheEventStream_sendsNoBody() throws {
        let server = try E2E.server()
        defer { server.stop() }
        let client = try server.connect()
        try client.send("HEAD /api/v1/events/stream HTTP/1.1\r\nHost: localhost\r\n\r\n")
        let head = try client.readResponse(timeout: 5, isHead: true)
        #expect(head.status == 200)
        #expect(head.headers["Content-Type"] == "text/event-stream")
        usleep(200_000)
        let bus = server.app.context.events
        bus.publish("status", sources: [], data: ["status": "x"])
        // Nothing may follow the head of a HEAD response: the next bytes must be a new response.
        try client.send(E2E.get("/api/v1/health"))
        let next = try client.readResponse(timeout: 5)
        #expect(next.status == 200, "after HEAD: \(next) buffered: \(client.buffered)")
        #expect(bus.subscriberCount == 0)
    }

    @Test func slowBody_withSteadyProgress_isNotCutOffByTheHeaderTimeout() throws {
        let server = try E2E.server(insecure: true) {
            $0.headerTimeout = 1
            $0.idleTimeout = 5
        }
        defer { server.stop() }
        let client = try server.connect()
        // The head arrives in two pieces, then the body a byte at a time.
        try client.send("POST /api/v1/health HTTP/1.1\r\nHost: local")
        usleep(100_000)
        try client.send("host\r\nContent-Length: 8\r\n\r\n")
        for byte in Array("abcdefgh".utf8) {
            usleep(300_000)  // 2.4 s in all: longer than the header timeout, never idle for it
            try client.send([byte])
        }
        let response = try client.readResponse(timeout: 3)
        #expect(response.status == 405, "\(response)")
    }

    @Test func stalledBody_isTimedOut() throws {
        let server = try E2E.server(insecure: true) {
            $0.headerTimeout = 1
            $0.idleTimeout = 10
        }
        defer { server.stop() }
        let client = try server.connect()
        try client.send("POST /api/v1/health HTTP/1.1\r\nHost: localhost\r\nContent-Length: 8\r\n\r\nabc")
        let start = ContinuousClock.now
        let bytes = try client.readUntilClose(timeout: 6)
        let elapsed = E2E.elapsed(since: start)
        #expect(elapsed >= 0.8 && elapsed < 4, "closed after \(elapsed) s")
        let text = String(decoding: bytes, as: UTF8.self)
        #expect(text.isEmpty || text.hasPrefix("HTTP/1.1 408 "), "\(text)")
    }

    @Test func oversizedBodySentAnyway_clientStillReads413() throws {
        for insecure in [true, false] {
            let server = try E2E.server(insecure: insecure) { $0.maxBodyBytes = 64 * 1024 }
            defer { server.stop() }
            let client = try server.connect()
            try client.send("POST /api/v1/health HTTP/1.1\r\nHost: localhost\r\nContent-Length: 4000000\r\n\r\n")
            // A client without Expect pushes its body at once; the server stops reading it.
            let chunk = [UInt8](repeating: 0x7A, count: 64 * 1024)
            for _ in 0..<16 {
                do { try client.send(chunk, timeout: 0.5) } catch { break }
            }
            let response = try client.readResponse(timeout: 5)
            #expect(response.status == 413, "insecure: \(insecure)")
        }
    }

    @Test func hugeHeaderFlood_clientStillReads431() throws {
        for insecure in [true, false] {
            let server = try E2E.server(insecure: insecure)
            defer { server.stop() }
            let client = try server.connect()
            var head = "GET /api/v1/health HTTP/1.1\r\nHost: localhost\r\n"
            let filler = String(repeating: "f", count: 1000)
            for index in 0..<1000 { head += "X-\(index): \(filler)\r\n" }
            do { try client.send(head, timeout: 1) } catch {}
            let response = try client.readResponse(timeout: 5)
            #expect(response.status == 431, "insecure: \(insecure)")
        }
    }

    @Test func clientThatNeverReads_isDroppedAfterTheTimeout() throws {
        let server = try E2E.server(insecure: true) { $0.headerTimeout = 1 }
        defer { server.stop() }
        let client = try server.connect()
        let request = Array(E2E.get("/api/v1/version").utf8)
        let batch = Array([[UInt8]](repeating: request, count: 2000).joined())
        for _ in 0..<100 {
            do { try client.send(batch, timeout: 0.2) } catch { break }
        }
        #expect(server.app.connectionCount == 1)
        #expect(E2E.eventually(timeout: 5) { server.app.connectionCount == 0 }, "a never-reading client stayed open")
        #expect(try server.request("GET", "/api/v1/health").status == 200)
    }

    @Test func expectContinueFromHTTP10_getsNo100() throws {
        let server = try E2E.server(insecure: true)
        defer { server.stop() }
        let client = try server.connect()
        try client.send("POST /api/v1/health HTTP/1.0\r\nContent-Length: 4\r\nExpect: 100-continue\r\n\r\n")
        usleep(200_000)
        try client.send("abcd")
        let response = try client.readResponse(timeout: 5)
        #expect(response.status == 405, "\(response)")
    }
}
