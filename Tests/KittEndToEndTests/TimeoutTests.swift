import Foundation
import KittNet
import KittTestSupport
import Testing

/// Header, idle and handshake deadlines (SPEC §2), with short timeouts so the suite stays fast.
@Suite(.serialized) struct TimeoutTests {
    /// What a timed-out connection may receive before the close: nothing, or a 408 JSON error.
    func expectNothingOr408(_ bytes: [UInt8], sourceLocation: SourceLocation = #_sourceLocation) {
        let text = String(decoding: bytes, as: UTF8.self)
        if !text.isEmpty {
            #expect(text.hasPrefix("HTTP/1.1 408 "), "\(text)", sourceLocation: sourceLocation)
            #expect(text.contains("Content-Type: application/json"), "\(text)", sourceLocation: sourceLocation)
            #expect(text.contains(#""error":"#), "\(text)", sourceLocation: sourceLocation)
        }
    }

    @Test func halfAHead_isClosedAfterTheHeaderTimeout() throws {
        let server = try E2E.server { $0.headerTimeout = 1 }
        defer { server.stop() }
        let client = try server.connect()
        let start = ContinuousClock.now
        try client.send("GET /api/v1/health HTTP/1.1\r\nHost: loc")
        let bytes = try client.readUntilClose(timeout: 6)
        let elapsed = E2E.elapsed(since: start)
        #expect(client.peerClosed)
        #expect(elapsed >= 0.8 && elapsed < 4, "closed after \(elapsed) s")
        expectNothingOr408(bytes)
    }

    @Test func dribblingAHead_isCutOffAtTheHeaderTimeout() throws {
        let server = try E2E.server(insecure: true) { $0.headerTimeout = 1 }
        defer { server.stop() }
        let client = try server.connect()
        let start = ContinuousClock.now
        // One byte every 100 ms keeps the socket busy but the head never completes in time.
        let head =
            Array("GET /api/v1/health HTTP/1.1\r\nHost: localhost\r\nX-Slow: ".utf8)
            + [UInt8](repeating: 0x61, count: 200)
        var closedAfter: Double?
        for byte in head {
            do { try client.send([byte]) } catch {
                closedAfter = E2E.elapsed(since: start)
                break
            }
            if Socket.waitUntil(client.fd, events: Int16(POLLIN), timeout: 0.1) {
                _ = try client.readUntilClose(timeout: 2)
                closedAfter = E2E.elapsed(since: start)
                break
            }
        }
        let elapsed = try #require(closedAfter, "never closed")
        #expect(elapsed >= 0.8 && elapsed < 4, "closed after \(elapsed) s")
    }

    @Test func idleKeepAliveConnection_isClosedAfterTheIdleTimeout() throws {
        let server = try E2E.server {
            $0.headerTimeout = 1
            $0.idleTimeout = 2
        }
        defer { server.stop() }
        let client = try server.connect()
        try client.send(E2E.get("/api/v1/health"))
        #expect(try client.readResponse().status == 200)
        let start = ContinuousClock.now
        let bytes = try client.readUntilClose(timeout: 8)
        let elapsed = E2E.elapsed(since: start)
        #expect(bytes.isEmpty)
        // Longer than the header timeout: between requests the idle timeout applies.
        #expect(elapsed >= 1.6 && elapsed < 5, "closed after \(elapsed) s")
    }

    @Test func connectionThatNeverSendsARequest_isClosedAfterTheHeaderTimeout() throws {
        let server = try E2E.server(insecure: true) {
            $0.headerTimeout = 1
            $0.idleTimeout = 10
        }
        defer { server.stop() }
        let client = try server.connect()
        let start = ContinuousClock.now
        let bytes = try client.readUntilClose(timeout: 6)
        let elapsed = E2E.elapsed(since: start)
        #expect(bytes.isEmpty)
        #expect(elapsed >= 0.8 && elapsed < 4, "closed after \(elapsed) s")
    }

    @Test func silentTLSClient_isClosedAfterTheHeaderTimeout_othersServedMeanwhile() throws {
        let server = try E2E.server { $0.headerTimeout = 1.5 }
        defer { server.stop() }
        let silent = try E2E.tcp(server)  // connects, never sends a ClientHello
        let start = ContinuousClock.now
        for _ in 0..<3 {
            let response = try server.request("GET", "/api/v1/health", timeout: 2)
            #expect(response.status == 200)
        }
        #expect(E2E.elapsed(since: start) < 1.2, "other clients waited on the silent one")
        _ = try silent.readUntilClose(timeout: 6)
        let elapsed = E2E.elapsed(since: start)
        #expect(silent.peerClosed)
        #expect(elapsed >= 1.2 && elapsed < 4.5, "closed after \(elapsed) s")
    }
}
