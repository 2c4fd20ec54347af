import Dispatch
import Foundation
import KittJSON
import KittTestSupport
import Testing

/// The control plane through the real server (issue 4 item 5): a fake agent inside the test
/// registers, heartbeats, receives run_test commands, posts log lines, status and results, and
/// a 2×2×1 campaign runs to `completed` while an SSE client sees its events in order.
@Suite(.serialized) struct CampaignFlowTests {
    /// A keep-alive TLS connection speaking JSON with the admin token.
    final class API {
        let client: RawClient
        init(_ server: TestServer) throws { client = try server.connect() }

        func call(_ method: String, _ path: String, _ body: JSON? = nil) throws -> TestResponse {
            let bytes = body?.serialized() ?? []
            var head = "\(method) \(path) HTTP/1.1\r\nHost: localhost\r\nAuthorization: Bearer \(TestServer.defaultToken)\r\n"
            if body != nil { head += "Content-Type: application/json\r\nContent-Length: \(bytes.count)\r\n" }
            try client.send(Array((head + "\r\n").utf8) + bytes)
            return try client.readResponse()
        }
    }

    /// Every `event:`/`data:` pair received so far on an SSE connection.
    static func events(in text: String) -> [(type: String, data: JSON)] {
        text.components(separatedBy: "\n\n").compactMap { frame in
            var type: String?
            var data: JSON?
            for line in frame.split(separator: "\n") {
                if line.hasPrefix("event: ") { type = String(line.dropFirst(7)) }
                if line.hasPrefix("data: ") { data = try? JSON(parsing: String(line.dropFirst(6))) }
            }
            guard let type, let data else { return nil }
            return (type, data)
        }
    }

    @Test func campaign2x2x1_runsToCompleted_withAFakeAgent_whileSSEWatches() throws {
        let server = try TestServer.start()
        defer { server.stop() }
        let api = try API(server)

        let registered = try api.call("POST", "/api/v1/agents/register", ["name": "gpu-1", "hostname": "gpu-1.lab"])
        #expect(registered.status == 201)
        let agentID = try #require(registered.json?["agent_id"]?.stringValue)

        let stream = try server.connect()
        try stream.send("GET /api/v1/events/stream HTTP/1.1\r\nHost: localhost\r\n\r\n")
        _ = try stream.readUntil(": connected\n\n")

        let created = try api.call(
            "POST", "/api/v1/campaigns/",
            [
                "name": "nightly", "agent_id": .string(agentID),
                "config": [
                    "models": [["name": "org/m1"], ["name": "org/m2"]],
                    "engines": [["name": "vllm"], ["name": "llama_cpp"]],
                    "benchmarks": ["throughput"],
                ],
            ])
        #expect(created.status == 201, "\(created)")
        let campaignID = try #require(created.json?["id"]?.stringValue)
        #expect(try api.call("POST", "/api/v1/campaigns/\(campaignID)/launch").status == 202)

        // The fake agent: heartbeat, run whatever it is handed, report, until the campaign ends.
        var ran: [String] = []
        let deadline = Date().addingTimeInterval(30)
        var status = ""
        while Date() < deadline {
            let beat = try api.call("POST", "/api/v1/agents/\(agentID)/heartbeat", ["status": "idle"])
            #expect(beat.status == 200)
            for command in beat.json?["commands"]?.arrayValue ?? [] {
                #expect(command["type"]?.stringValue == "run_test")
                let testID = try #require(command["test_id"]?.stringValue)
                let commandID = try #require(command["command_id"]?.stringValue)
                let payload = try #require(command["payload"]?.objectValue)
                let model = payload["model_path"]?.stringValue ?? ""
                let engine = payload["engine_name"]?.stringValue ?? ""
                ran.append("\(model) / \(engine)")
                #expect(try api.call("POST", "/api/v1/quicktest/\(testID)/status", ["status": "running"]).status == 200)
                #expect(try api.call("POST", "/api/v1/quicktest/\(testID)/logs", ["line": .string("loading \(model)")]).status == 200)
                let result = try api.call(
                    "POST", "/api/v1/agents/\(agentID)/results",
                    [
                        "command_id": .string(commandID), "test_id": .string(testID), "status": "completed",
                        "result_data": [
                            "model": .string(model), "engine": .string(engine), "suite_name": "quick",
                            "timestamp": "2026-11-30T01:00:00Z", "passed": true, "total_benchmarks": 1,
                            "passed_count": 1, "failed_count": 0, "total_time_seconds": 3.5, "kitt_version": "1",
                            "results": [["test_name": "throughput", "test_version": "1", "run_number": 1,
                                         "passed": true, "metrics": ["avg_tps": 42.5], "errors": []]],
                        ],
                    ])
                #expect(result.status == 202, "\(result)")
                let test = try api.call("GET", "/api/v1/quicktest/\(testID)")
                #expect(test.json?["result_id"]?.stringValue == result.json?["result_id"]?.stringValue)
                #expect(test.json?["status"]?.stringValue == "completed")
            }
            status = try api.call("GET", "/api/v1/campaigns/\(campaignID)").json?["status"]?.stringValue ?? ""
            if status == "completed" || status == "failed" { break }
            usleep(20_000)
        }

        #expect(status == "completed")
        let campaign = try api.call("GET", "/api/v1/campaigns/\(campaignID)").json
        #expect(campaign?["total_runs"]?.intValue == 4)
        #expect(campaign?["succeeded"]?.intValue == 4)
        #expect(campaign?["failed"]?.intValue == 0)
        #expect(Set(ran) == ["org/m1 / vllm", "org/m1 / llama_cpp", "org/m2 / vllm", "org/m2 / llama_cpp"])
        #expect(ran.count == 4, "every run is handed out exactly once: \(ran)")

        let lines = try api.call("GET", "/api/v1/campaigns/\(campaignID)/logs").json?["lines"]?.arrayValue ?? []
        let texts = lines.compactMap { $0["line"]?.stringValue }
        for number in 1...4 {
            #expect(texts.contains { $0.hasPrefix("[\(number)/4] Queuing: ") }, "\(texts)")
        }

        // SSE: the campaign's own status events in order, and every test went queued → running
        // → completed with its log line in between.
        _ = try stream.readUntil("\"status\":\"completed\",\"campaign_id\":\"\(campaignID)\"")
        let events = Self.events(in: stream.buffered)
        let campaignStatuses = events.filter {
            $0.type == "status" && $0.data["campaign_id"]?.stringValue == campaignID && $0.data["test_id"] == nil
        }.compactMap { $0.data["status"]?.stringValue }
        #expect(campaignStatuses.first == "queued" || campaignStatuses.first == "running", "\(campaignStatuses)")
        #expect(campaignStatuses.last == "completed")
        #expect(events.contains { $0.type == "campaign_created" && $0.data["campaign_id"]?.stringValue == campaignID })
        let testIDs = Set(events.compactMap { $0.data["test_id"]?.stringValue })
        #expect(testIDs.count == 4)
        for testID in testIDs {
            let sequence = events.filter { $0.data["test_id"]?.stringValue == testID }.map { event in
                event.type == "log" ? "log" : (event.data["status"]?.stringValue ?? "?")
            }
            // dispatched: the heartbeat that handed the command out (SPEC §7.1).
            #expect(sequence == ["queued", "dispatched", "running", "log", "completed"], "\(testID): \(sequence)")
        }
    }
}
