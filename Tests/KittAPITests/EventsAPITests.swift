import Dispatch
import KittAPI
import KittHTTP
import KittJSON
import KittTestSupport
import Testing

@Suite struct EventsAPITests {
    @Test func streamHeadersAndLiveFrames() throws {
        let h = try APIHarness.control()
        defer { h.close() }
        let response = h.router.respond(to: HTTPRequest(method: .get, target: "/api/v1/events/stream"))
        #expect(response.status == .ok)
        #expect(response.headers["Content-Type"] == "text/event-stream")
        #expect(response.headers["Cache-Control"] == "no-cache")
        let stream = h.subscribe()
        #expect(stream.text.hasPrefix(": connected\n\n"))
        let id = h.context.events.publish("log", sources: ["t1"], data: ["line": "hello", "test_id": "t1"])
        #expect(stream.text.hasSuffix("id: \(id)\nevent: log\ndata: {\"line\":\"hello\",\"test_id\":\"t1\"}\n\n"))
    }

    @Test func lastEventIDReplaysExactlyTheMissedEvents() throws {
        let h = try APIHarness.control()
        defer { h.close() }
        let bus = h.context.events
        var ids: [Int] = []
        for i in 0..<6 {
            ids.append(bus.publish("log", sources: [i % 2 == 0 ? "even" : "odd"], data: ["n": .int(i)]))
        }
        #expect(ids == ids.sorted() && Set(ids).count == 6)

        let resumed = h.subscribe(lastEventID: ids[3])
        #expect(resumed.frames.map(\.id) == [ids[4], ids[5]])
        #expect(resumed.frames.map { $0.data["n"]?.intValue } == [4, 5])

        let filtered = h.subscribe(source: "even", lastEventID: ids[0])
        #expect(filtered.frames.map { $0.data["n"]?.intValue } == [2, 4])

        let fresh = h.subscribe()
        #expect(fresh.frames.isEmpty)

        let next = bus.publish("log", sources: ["even"], data: ["n": 6])
        #expect(resumed.frames.map(\.id) == [ids[4], ids[5], next])
        #expect(filtered.frames.map { $0.data["n"]?.intValue } == [2, 4, 6])
        #expect(fresh.frames.map(\.id) == [next])
    }

    @Test func replayIsLimitedToTheHistoryRing() throws {
        let bus = EventBus(historyLimit: 4)
        var ids: [Int] = []
        for i in 0..<10 { ids.append(bus.publish("log", sources: ["s"], data: ["n": .int(i)])) }
        #expect(bus.history.map(\.id) == Array(ids[6...]))
        let stream = RecordingStream()
        bus.subscribe(stream, filter: nil, lastEventID: ids[1])
        #expect(stream.frames.map(\.id) == Array(ids[6...]))
    }

    @Test func slowSubscriberIsDroppedWithoutDelayingOthers() throws {
        let h = try APIHarness.control()
        defer { h.close() }
        let bus = h.context.events
        let refusing = h.subscribe(refusing: true)
        let backlogged = h.subscribe(capacity: 600)
        let fast = h.subscribe()
        let filteredFast = h.subscribe(source: "x")
        #expect(bus.subscriberCount == 4)

        let started = DispatchTime.now().uptimeNanoseconds
        var ids: [Int] = []
        for i in 0..<500 {
            ids.append(bus.publish("log", sources: ["x"], data: ["line": .string("line \(i)"), "test_id": "x"]))
        }
        let elapsed = Double(DispatchTime.now().uptimeNanoseconds - started) / 1e9

        #expect(fast.frames.map(\.id) == ids)
        #expect(filteredFast.frames.map(\.id) == ids)
        // The refusing stream was tried once and then forgotten; the backlogged one overflowed and closed.
        // (Its sends: the route's ": connected" comment and the first event.)
        #expect(refusing.sendCount == 2)
        #expect(backlogged.isClosed)
        #expect(backlogged.frames.count < 20)
        #expect(backlogged.frames.map(\.id) == Array(ids.prefix(backlogged.frames.count)))
        #expect(waitUntil { bus.subscriberCount == 2 })
        #expect(elapsed < 2)

        // Closing a stream unsubscribes it.
        fast.close()
        #expect(bus.subscriberCount == 1)
        bus.publish("log", sources: ["x"], data: [:])
        #expect(filteredFast.frames.count == 501)
    }
}
