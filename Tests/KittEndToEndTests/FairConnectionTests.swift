import Foundation
import KittJSON
import KittTestSupport
import Synchronization
import Testing

/// Connection fairness (SPEC §7.2) over TLS through the real server: per-address caps on
/// connections and event streams, and a total deadline on request bodies. The second client
/// address is 127.0.0.2 (the whole of 127/8 is loopback on Linux): the client socket is bound
/// to it, so the server sees another peer.
@Suite(.serialized) struct FairConnectionTests {
    static let other = "127.0.0.2"

    @Test func perAddressConnectionCap_answers503_whileAnotherAddressGetsHealth() throws {
        let server = try E2E.server { $0.maxConnectionsPerIP = 3 }
        defer { server.stop() }
        var held: [RawClient] = []
        for _ in 0..<3 {
            let client = try server.connect()
            try client.send(E2E.get("/api/v1/health"))
            #expect(try client.readResponse().status == 200)
            held.append(client)
        }
        // The fourth from the same address is answered, not reset: 503, Retry-After, closed.
        let over = try server.connect()
        try over.send(E2E.get("/api/v1/health"))
        let refused = try over.readResponse()
        #expect(refused.status == 503)
        #expect(refused.headers["Retry-After"] == "5")
        #expect(refused.headers["Content-Type"] == "application/json")
        #expect(refused.errorMessage?.contains("too many connections from 127.0.0.1") == true)
        _ = try over.readUntilClose(timeout: 5)
        #expect(over.peerClosed)

        // Another address is not affected by 127.0.0.1 holding its cap.
        let stranger = try server.connect(source: FairConnectionTests.other)
        try stranger.send(E2E.get("/api/v1/health"))
        #expect(try stranger.readResponse().status == 200)

        // The held ones keep working, and closing one gives its slot back (exact accounting).
        for client in held {
            try client.send(E2E.get("/api/v1/version"))
            #expect(try client.readResponse().status == 200)
        }
        held.removeLast()
        var readmitted = false
        #expect(E2E.eventually {
            guard let again = try? server.connect() else { return false }
            guard (try? again.send(E2E.get("/api/v1/health"))) != nil else { return false }
            readmitted = (try? again.readResponse().status) == 200
            return readmitted
        })
    }

    @Test func perAddressStreamCap_answers429_whileAnotherAddressSubscribes() throws {
        let server = try E2E.server { $0.maxSSEPerIP = 2 }
        defer { server.stop() }
        var streams: [RawClient] = []
        for _ in 0..<2 { streams.append(try openStream(server)) }

        let third = try server.connect()
        try third.send(E2E.get("/api/v1/events/stream"))
        let refused = try third.readResponse()
        #expect(refused.status == 429)
        #expect(refused.headers["Retry-After"] != nil)
        #expect(refused.errorMessage?.contains("too many event streams") == true)
        _ = try third.readUntilClose(timeout: 5)

        // Plain requests from the same address still work; another address can subscribe.
        #expect(try server.request("GET", "/api/v1/health").status == 200)
        let elsewhere = try openStream(server, source: FairConnectionTests.other)
        _ = elsewhere

        // Ending a stream frees its slot.
        streams.removeLast()
        #expect(E2E.eventually { (try? openStream(server)) != nil })
    }

    /// The reported case: 50 event streams from one address filled `--max-connections 50`
    /// and `/health` was refused to everyone. One address now holds at most half the server.
    @Test func oneAddressCannotFillMaxConnections_withDefaultPerAddressCaps() throws {
        let server = try E2E.server { $0.maxConnections = 50 }
        defer { server.stop() }
        #expect(server.app.startupWarnings.allSatisfy { !$0.contains("can fill the server") })
        var streams: [RawClient] = []
        var refusedCount = 0
        for _ in 0..<50 {
            guard let client = try? server.connect() else {
                refusedCount += 1
                continue
            }
            try client.send(E2E.get("/api/v1/events/stream"))
            if let text = try? client.readUntil(": connected"), text.contains(" 200 ") {
                streams.append(client)
            } else {
                refusedCount += 1
            }
        }
        // 25 streams (half the server), then 8 answered 503, then closed at accept.
        #expect(streams.count == 25)
        #expect(refusedCount == 25)
        #expect(server.app.connectionCount <= 25 + 8)
        let stranger = try server.connect(source: FairConnectionTests.other)
        try stranger.send(E2E.get("/api/v1/health"))
        #expect(try stranger.readResponse().status == 200)
    }

    /// Connections opened and closed from several threads at once land on both event loops;
    /// afterwards the address can hold exactly its cap again — no slot leaked, none given back twice.
    @Test func perAddressAccounting_isExactAfterConcurrentChurn() throws {
        let cap = 6
        let server = try E2E.server {
            $0.maxConnectionsPerIP = cap
            $0.eventLoops = 2
        }
        defer { server.stop() }
        let statuses = Mutex<[Int: Int]>([:])
        let group = DispatchGroup()
        for worker in 0..<4 {
            group.enter()
            DispatchQueue(label: "churn-\(worker)").async {
                defer { group.leave() }
                for round in 0..<25 {
                    // Some hang up before asking anything, some after; some keep a stream open briefly.
                    guard let client = try? server.connect() else { continue }
                    if round % 5 == 0 { continue }
                    let path = round % 3 == 0 ? "/api/v1/events/stream" : "/api/v1/health"
                    guard (try? client.send(E2E.get(path))) != nil else { continue }
                    let status = path.hasSuffix("stream")
                        ? ((try? client.readUntil("\r\n", timeout: 5)).map { $0.contains(" 200 ") ? 200 : 503 } ?? 0)
                        : ((try? client.readResponse(timeout: 5).status) ?? 0)
                    statuses.withLock { $0[status, default: 0] += 1 }
                }
            }
        }
        #expect(group.wait(timeout: .now() + 60) == .success)
        let seen = statuses.withLock { $0 }
        #expect((seen[200] ?? 0) > 0, "\(seen)")
        #expect(E2E.eventually { server.app.connectionCount == 0 })

        var held: [RawClient] = []
        for _ in 0..<cap {
            let client = try server.connect()
            try client.send(E2E.get("/api/v1/health"))
            #expect(try client.readResponse().status == 200)
            held.append(client)
        }
        let over = try server.connect()
        try over.send(E2E.get("/api/v1/health"))
        #expect(try over.readResponse().status == 503)
    }

    /// An operator who sets the cap explicitly (a benchmark from one address) gets it, with a warning.
    @Test func explicitPerAddressCap_isHonoured_withAWarningWhenItCanFillTheServer() throws {
        let server = try E2E.server {
            $0.maxConnections = 4
            $0.maxConnectionsPerIP = 4
        }
        defer { server.stop() }
        #expect(server.app.startupWarnings.contains { $0.contains("one client address can fill the server") })
        var held: [RawClient] = []
        for _ in 0..<4 {
            let client = try server.connect()
            try client.send(E2E.get("/api/v1/health"))
            #expect(try client.readResponse().status == 200)
            held.append(client)
        }
        #expect(server.app.connectionCount == 4)
    }

    @Test func bodyTrickledSlowerThanBodyTimeout_is408_andAPromptBodyStillWorks() throws {
        // Each byte comes well inside the 3 s per-progress timeout: only the total deadline stops it.
        let server = try E2E.server { $0.bodyTimeout = 1.5 }
        defer { server.stop() }
        let client = try server.connect()
        let body = #"{"name":"slow-agent","hostname":"h"}"#
        try client.send(
            "POST /api/v1/agents/register HTTP/1.1\r\nHost: localhost\r\nAuthorization: Bearer \(TestServer.defaultToken)\r\n"
                + "Content-Type: application/json\r\nContent-Length: \(body.utf8.count)\r\n\r\n")
        let start = ContinuousClock.now
        var answer: TestResponse?
        for byte in body.utf8 where answer == nil && E2E.elapsed(since: start) < 8 {
            try? client.send([byte])
            answer = try? client.readResponse(timeout: 0.4)
        }
        let elapsed = E2E.elapsed(since: start)
        let response = try #require(answer, "no answer while trickling for \(elapsed) s")
        #expect(response.status == 408)
        #expect(response.errorMessage == "request body not received in time")
        #expect(elapsed >= 1.4 && elapsed < 4, "answered after \(elapsed) s")
        _ = try client.readUntilClose(timeout: 5)

        // Nothing was registered; a body sent promptly is served.
        let agents = try server.request("GET", "/api/v1/agents")
        #expect(agents.json?["total"]?.intValue == 0)
        let prompt = try server.request("POST", "/api/v1/agents/register", json: ["name": "quick-agent", "hostname": "h"])
        #expect(prompt.status == 201)
    }

    struct StreamRefused: Error { let text: String }

    private func openStream(_ server: TestServer, source: String? = nil) throws -> RawClient {
        let client = try server.connect(source: source)
        try client.send(E2E.get("/api/v1/events/stream"))
        let text = try client.readUntil(": connected")
        guard text.hasPrefix("HTTP/1.1 200") else { throw StreamRefused(text: text) }
        return client
    }
}
