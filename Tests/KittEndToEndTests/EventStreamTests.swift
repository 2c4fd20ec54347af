import Foundation
import KittAPI
import KittJSON
import KittTestSupport
import Testing

/// Server-Sent Events over the real server (SPEC §5 Events).
@Suite(.serialized) struct EventStreamTests {
    /// Opens a stream and returns once its head is read and the bus has the subscriber.
    func openStream(
        _ server: TestServer, _ path: String = "/api/v1/events/stream", extra: String = "", subscribers: Int = 1
    ) throws -> (RawClient, head: String) {
        let client = try server.connect()
        try client.send(E2E.get(path, extra: extra))
        let head = try client.readUntil("\r\n\r\n", timeout: 5)
        let events = server.app.context.events
        #expect(E2E.eventually { events.subscriberCount == subscribers })
        return (client, head)
    }

    func events(_ server: TestServer) throws -> EventBus { server.app.context.events }

    @Test func head_arrivesBeforeAnyEvent_thenFramesAsPublished() throws {
        let server = try E2E.server()
        defer { server.stop() }
        let (client, head) = try openStream(server)
        #expect(head.hasPrefix("HTTP/1.1 200 "))
        #expect(head.contains("Content-Type: text/event-stream\r\n"))
        #expect(head.contains("Cache-Control: no-cache\r\n"))
        #expect(!head.contains("Content-Length"))
        let bus = try events(server)
        let id = bus.publish(
            "status", sources: ["t1"], data: .object(JSONObject([("status", "running"), ("test_id", "t1")])))
        let text = try client.readUntil(#"data: {"status":"running","test_id":"t1"}"# + "\n\n", timeout: 5)
        #expect(text.contains("id: \(id)\nevent: status\ndata: {\"status\":\"running\",\"test_id\":\"t1\"}\n\n"))
        let second = bus.publish(
            "log", sources: ["t1"], data: .object(JSONObject([("line", "hello"), ("test_id", "t1")])))
        let more = try client.readUntil("id: \(second)\nevent: log\n", timeout: 5)
        #expect(more.contains(#"data: {"line":"hello","test_id":"t1"}"#))
    }

    @Test func keepaliveComment_arrivesOnAnIdleStream() throws {
        let server = try E2E.server { $0.sseKeepalive = 0.5 }
        defer { server.stop() }
        let (client, _) = try openStream(server)
        let start = ContinuousClock.now
        let text = try client.readUntil(": keepalive\n\n", timeout: 4)
        #expect(text.contains(": keepalive\n\n"))
        #expect(E2E.elapsed(since: start) < 2)
    }

    @Test func lastEventID_replaysOnlyLaterEvents() throws {
        let server = try E2E.server()
        defer { server.stop() }
        let bus = try events(server)
        let first = bus.publish("status", sources: ["c1"], data: ["status": "one"])
        let second = bus.publish("status", sources: ["c1"], data: ["status": "two"])
        let third = bus.publish("status", sources: ["c1"], data: ["status": "three"])
        let (client, _) = try openStream(server, extra: "Last-Event-ID: \(first)\r\n")
        let text = try client.readUntil("id: \(third)\n", timeout: 5)
        let live = bus.publish("status", sources: ["c1"], data: ["status": "four"])
        let all = try client.readUntil("id: \(live)\n", timeout: 5)
        #expect(!text.contains(#""one""#))
        #expect(text.contains("id: \(second)\nevent: status\ndata: {\"status\":\"two\"}\n\n"))
        #expect(all.contains(#"{"status":"four"}"#))
        let order = [second, third, live].compactMap { all.range(of: "id: \($0)\n")?.lowerBound }
        #expect(order.count == 3 && order == order.sorted())
    }

    @Test func filteredStream_getsOnlyItsSourcesEvents() throws {
        let server = try E2E.server()
        defer { server.stop() }
        let bus = try events(server)
        let early = bus.publish("status", sources: ["agent-b"], data: ["status": "b0"])
        let (client, _) = try openStream(server, "/api/v1/events/stream/agent-a", extra: "Last-Event-ID: 0\r\n")
        bus.publish("agent_status", sources: ["agent-b"], data: ["status": "b1"])
        bus.publish("status", sources: ["campaign-1", "agent-b"], data: ["status": "b2"])
        let mine = bus.publish("agent_status", sources: ["agent-a"], data: ["status": "a1"])
        let shared = bus.publish("status", sources: ["campaign-1", "agent-a"], data: ["status": "a2"])
        let text = try client.readUntil("id: \(shared)\n", timeout: 5)
        #expect(text.contains("id: \(mine)\nevent: agent_status\ndata: {\"status\":\"a1\"}\n\n"))
        // Quoted: a bare "b0" could appear in a response header (a random X-Request-Id).
        #expect(!text.contains(#""b0""#) && !text.contains(#""b1""#) && !text.contains(#""b2""#))
        #expect(!text.contains("id: \(early)\n"))
    }

    @Test func clientDisconnect_removesTheSubscriber() throws {
        for insecure in [false, true] {
            let server = try E2E.server(insecure: insecure)
            defer { server.stop() }
            let bus = try events(server)
            do {
                let (first, _) = try openStream(server)
                let (second, _) = try openStream(server, subscribers: 2)
                _ = (first, second)
            }  // both clients close here
            #expect(E2E.eventually { bus.subscriberCount == 0 }, "insecure: \(insecure)")
            #expect(server.app.connectionCount == 0 || E2E.eventually { server.app.connectionCount == 0 })
            // Publishing to nobody is fine, and a new subscriber still works.
            bus.publish("status", sources: [], data: ["status": "x"])
            let (client, _) = try openStream(server)
            let id = bus.publish("status", sources: [], data: ["status": "y"])
            _ = try client.readUntil("id: \(id)\n", timeout: 5)
        }
    }

    @Test func slowSubscriber_isDroppedWithoutDelayingThePublisher() throws {
        let server = try E2E.server()
        defer { server.stop() }
        let bus = try events(server)
        let (slow, _) = try openStream(server)  // never reads again
        let line = JSON.string(String(repeating: "x", count: 1000))
        let start = ContinuousClock.now
        for index in 0..<20_000 {
            bus.publish("log", sources: ["q"], data: .object(JSONObject([("line", line), ("n", .int(index))])))
        }
        let elapsed = E2E.elapsed(since: start)
        #expect(elapsed < 10, "publishing 20 MB to a stuck subscriber took \(elapsed) s")
        #expect(E2E.eventually { bus.subscriberCount == 0 }, "the slow subscriber was not dropped")
        _ = try slow.readUntilClose(timeout: 10)
        #expect(slow.peerClosed)
        let (client, _) = try openStream(server)
        let id = bus.publish("status", sources: [], data: ["status": "after"])
        _ = try client.readUntil("id: \(id)\n", timeout: 5)
    }
}
