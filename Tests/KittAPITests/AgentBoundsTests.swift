import KittAPI
import KittHTTP
import KittJSON
import KittStore
import KittTestSupport
import Testing

/// Issue 9 (SPEC §7.2) in process: the one agent-token check, the byte-bounded event history,
/// and the field limits on what agents send.
@Suite struct AgentBoundsTests {
    @Test func oneAgentTokenCheckForEveryRoute() throws {
        let h = try APIHarness.control()
        defer { h.close() }
        let id = try h.addAgent(name: "gpu-a", token: "agent-a")
        let auth = h.context.auth
        let caller = try auth.agentCaller(AuthTests.request("Bearer agent-a"), store: h.store)
        #expect(caller.scopedAgentID == id)
        #expect(AuthTests.status { try caller.requireActing(as: id) } == 200)
        #expect(AuthTests.status { try caller.requireActing(as: "gpu-a") } == 200)
        #expect(AuthTests.status { try caller.requireActing(as: "gpu-b") } == 403)
        #expect(try auth.agentCaller(AuthTests.request("Bearer \(h.token)"), store: h.store) == .admin)
        #expect(AuthTests.status { _ = try auth.agentCaller(AuthTests.request("Bearer nope"), store: h.store) } == 403)
        #expect(AuthTests.status { _ = try auth.agentCaller(AuthTests.request(nil), store: h.store) } == 401)
        #expect(AuthTests.status { _ = try auth.agentCaller(AuthTests.request("Basic x"), store: h.store) } == 401)
        // A hash stored in upper case (another tool wrote it) still matches.
        try h.store.database.write { try $0.run("UPDATE agents SET token_hash = upper(token_hash)") }
        #expect(try auth.agentCaller(AuthTests.request("Bearer agent-a"), store: h.store).scopedAgentID == id)
        #expect(try Auth(adminToken: nil).agentCaller(AuthTests.request(nil), store: h.store) == .admin)
    }

    @Test func eventHistoryIsBoundedByBytes() throws {
        let bus = EventBus(historyBytes: 64 * 1024)
        let line = String(repeating: "L", count: 16 * 1024)
        var ids: [Int] = []
        for i in 0..<100 {
            ids.append(bus.publish("log", sources: ["t"], data: ["line": .string(line), "n": .int(i)]))
        }
        #expect(bus.historyByteCount <= 64 * 1024)
        let kept = bus.history
        #expect(kept.count == 3)
        #expect(kept.map(\.id) == Array(ids.suffix(3)))
        #expect(kept.last?.data["n"]?.intValue == 99)
        // Replay sends exactly what is kept.
        let stream = RecordingStream()
        bus.subscribe(stream, filter: nil, lastEventID: 0)
        #expect(stream.frames.map(\.id) == Array(ids.suffix(3)))
        // One event larger than the whole budget is still kept (the newest always is).
        let big = bus.publish("log", sources: ["t"], data: ["line": .string(String(repeating: "B", count: 100_000))])
        #expect(bus.history.map(\.id) == [big])
        // Many small events: the count bound and the byte bound both hold.
        let small = EventBus(historyLimit: 10)
        for i in 0..<25 { small.publish("status", sources: ["s"], data: ["n": .int(i)]) }
        #expect(small.history.compactMap { $0.data["n"]?.intValue } == Array(15..<25))
        #expect(EventBus().historyByteCount == 0)
    }

    @Test func replayFitsTheSubscriberBacklog() throws {
        let bus = EventBus(historyBytes: 1 << 20, replayBytes: 40 * 1024)
        let line = String(repeating: "L", count: 16 * 1024)
        let ids = (0..<20).map { _ in bus.publish("log", sources: ["t"], data: ["line": .string(line)]) }
        #expect(bus.history.count == 20)
        let stream = RecordingStream()
        bus.subscribe(stream, filter: nil, lastEventID: 0)
        // Two 16 KiB frames fit in 40 KiB: the newest two, in order.
        #expect(stream.frames.map(\.id) == Array(ids.suffix(2)))
    }

    @Test func fieldLimitsOnRegisterHeartbeatAndLogs() throws {
        let h = try APIHarness.control()
        defer { h.close() }
        let id = try h.addAgent(name: "gpu-1", token: "agent-one")
        let at4K = String(repeating: "x", count: 4096)
        let over4K = at4K + "x"
        let register: [(JSON, String?)] = [
            (["name": "gpu-1", "hostname": "h", "cpu_info": .string(at4K), "hardware_details": .string(at4K)], nil),
            (["name": "gpu-1", "hostname": "h", "cpu_info": .string(over4K)], "cpu_info"),
            (["name": "gpu-1", "hostname": "h", "fingerprint": .string(over4K)], "fingerprint"),
            (["name": "gpu-1", "hostname": "h", "capabilities": .array(Array(repeating: "c", count: 65))], "capabilities"),
            (["name": .string(String(repeating: "n", count: 128)), "hostname": "h"], nil),
            (["name": .string(String(repeating: "n", count: 129)), "hostname": "h"], "name"),
            (["name": "ABCDEF0123456789", "hostname": "h"], nil),  // not lowercase: not an id's shape
        ]
        for (body, field) in register {
            let reply = try h.execute(.post, "/api/v1/agents/register", json: body)
            if let field {
                #expect(reply.status == 400, "\(field): \(reply.status)")
                #expect(reply.error?.contains(field) == true, "\(String(describing: reply.error))")
            } else {
                #expect(reply.status == 201, "\(reply.status) \(String(describing: reply.error))")
            }
        }
        let beats: [(JSON, Int)] = [
            (["current_task": .string(at4K)], 200),
            (["current_task": .string(over4K)], 400),
            (["engines": [["engine": "vllm", "version": .string(over4K)]]], 400),
            (["engines": [["engine": .string(String(repeating: "e", count: 129))]]], 400),
            (["engines": .array((0..<65).map { ["engine": .string("e\($0)")] })], 400),
        ]
        for (body, expected) in beats {
            #expect(try h.execute(.post, "/api/v1/agents/\(id)/heartbeat", json: body, token: "agent-one").status == expected)
        }
        // Engines accumulate across heartbeats only up to the cap; the refused heartbeat changes nothing.
        for batch in 0..<2 {
            let engines = JSON.array((0..<32).map { ["engine": .string("b\(batch)-\($0)")] })
            #expect(try h.execute(.post, "/api/v1/agents/\(id)/heartbeat", json: ["engines": engines], token: "agent-one").status == 200)
        }
        let overflow = try h.execute(
            .post, "/api/v1/agents/\(id)/heartbeat", json: ["status": "busy", "engines": [["engine": "one-more"]]],
            token: "agent-one")
        #expect(overflow.status == 400)
        #expect(try h.execute(.get, "/api/v1/agents/\(id)").json?["engines"]?.arrayValue?.count == 64)
        #expect(try h.execute(.get, "/api/v1/agents/\(id)").json?["status"]?.stringValue != "busy")

        let test = try #require(
            try h.execute(.post, "/api/v1/quicktest", json: ["agent_id": .string(id), "model_path": "m", "engine_name": "vllm"])
                .json?["id"]?.stringValue)
        let at16K = String(repeating: "l", count: 16 * 1024)
        #expect(try h.execute(.post, "/api/v1/quicktest/\(test)/logs", json: ["line": .string(at16K)], token: "agent-one").status == 200)
        let long = try h.execute(.post, "/api/v1/quicktest/\(test)/logs", json: ["line": .string(at16K + "l")], token: "agent-one")
        #expect(long.status == 400)
        #expect(long.error?.contains("line") == true)
        let error = try h.execute(
            .post, "/api/v1/quicktest/\(test)/status", json: ["status": "failed", "error": .string(over4K)], token: "agent-one")
        #expect(error.status == 400)
        let report = try h.execute(
            .post, "/api/v1/agents/\(id)/results", json: ["status": "failed", "error": .string(over4K)], token: "agent-one")
        #expect(report.status == 400)
    }

    @Test func aNameNeverShadowsAnID() throws {
        let h = try APIHarness.control()
        defer { h.close() }
        // A KITT 1.x agent keeps its UUID id; no name may equal it (nor any 16-hex id shape).
        let uuid = "5f0c2b9e-7d1a-4c3e-9b8f-2a6d4e1c0b7a"
        try h.store.database.write { conn in
            try conn.run(
                "INSERT INTO agents (id, name, registered_at, updated_at) VALUES (?, 'old-rig', 'now', 'now')",
                [.text(uuid)])
        }
        let reply = try h.execute(.post, "/api/v1/agents/register", json: ["name": .string(uuid), "hostname": "h"])
        #expect(reply.status == 400)
        #expect(reply.error?.contains("id") == true)
        #expect(try h.execute(.get, "/api/v1/agent/install.sh?name=\(uuid)", admin: false).status == 400)
        #expect(try h.execute(.get, "/api/v1/agents/\(uuid)").json?["name"]?.stringValue == "old-rig")
    }
}
