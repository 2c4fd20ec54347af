#if canImport(Glibc)
import Glibc
#endif
import KittAPI
import KittJSON
import KittStore
import KittTestSupport
import Testing

/// SPEC §7.1 "Fidelity with KITT", through the real router in process: the campaign config
/// round trip, `dispatched`, agent names everywhere, one event per state change.
@Suite struct DropInAPITests {
    /// What KITT's campaign wizard sends: keys kitt does not know, optional keys left out.
    static let wizardConfig = #"""
        {"models": [{"name": "Qwen/Qwen2.5-7B", "path": "/data/models/Qwen2.5-7B"}, {"name": "org/m"}],
         "engines": [{"name": "vllm", "suite": "standard", "mode": "docker"}, {"name": "llama_cpp"}],
         "devon_managed": false, "disk": {"min_free_gb": 50, "paths": ["/data"]}}
        """#

    static func json(_ text: String) throws -> JSON { try JSON(parsing: Array(text.utf8)) }

    @Test func campaignConfigRoundTripsExactlyAndDefaultsApplyWhenRunning() throws {
        let h = try APIHarness.control()
        let runner = h.services.runner
        runner.start()
        defer { h.close() }
        defer { runner.stop() }
        try h.addAgent(name: "gpu-a100-1")
        let sent = try DropInAPITests.json(DropInAPITests.wizardConfig)

        let created = try h.execute(.post, "/api/v1/campaigns/", json: ["name": "nightly", "agent_id": "gpu-a100-1", "config": sent])
        #expect(created.status == 201, "\(created.json)")
        let id = try #require(created.json?["id"]?.stringValue)
        let stored = try h.execute(.get, "/api/v1/campaigns/\(id)").json?["config"]
        #expect(stored == sent)
        // Same keys in the same order, nothing written in.
        #expect(stored?.jsonString == sent.jsonString)
        #expect(!(stored?.jsonString.contains("null") ?? true))
        #expect(stored?["benchmarks"] == nil && stored?["suite_name"] == nil)
        #expect(stored?["engines"]?.arrayValue?[1].objectValue?.keys == ["name"])

        // PUT accepts the same document, bare or wrapped, and GET returns it.
        var edited = try #require(sent.objectValue)
        edited["suite_name"] = "standard"
        #expect(try h.execute(.put, "/api/v1/campaigns/\(id)/config", json: .object(edited)).status == 200)
        #expect(try h.execute(.get, "/api/v1/campaigns/\(id)").json?["config"]?.jsonString == JSON.object(edited).jsonString)
        #expect(try h.execute(.put, "/api/v1/campaigns/\(id)/config", json: ["config": sent]).status == 200)
        #expect(try h.execute(.get, "/api/v1/campaigns/\(id)").json?["config"]?.jsonString == sent.jsonString)
        // Still validated as SPEC §5.
        let bad = try h.execute(.put, "/api/v1/campaigns/\(id)/config", json: ["config": ["engines": [["suite": "x"]]]])
        #expect(bad.status == 400 && bad.error?.contains("engines[0].name") == true)

        // Running: benchmarks ["throughput"] and suite "quick" apply without being stored.
        #expect(try h.execute(.post, "/api/v1/campaigns/\(id)/launch").status == 202)
        let agent = try #require(try h.store.quickTests.agent(idOrName: "gpu-a100-1")?.id)
        let tests = try CampaignAPITests.driveAgent(h, agent: agent, until: {
            try CampaignAPITests.campaign(h, id)["status"]?.stringValue == "completed"
        })
        #expect(tests.count == 4)
        #expect(tests.allSatisfy { $0.benchmarkName == "throughput" && $0.suiteName == "quick" })
        #expect(tests.map(\.engineMode) == ["docker", "docker", "docker", "docker"])
        #expect(try h.execute(.get, "/api/v1/campaigns/\(id)").json?["config"]?.jsonString == sent.jsonString)
    }

    @Test func heartbeatMarksTheQuickTestDispatchedOnce() throws {
        let h = try APIHarness.control()
        defer { h.close() }
        let agent = try h.addAgent(name: "gpu-1", token: "agent-token-1")
        let events = h.subscribe(source: agent)
        let queued = try h.execute(.post, "/api/v1/quicktest/", json: ["agent_id": "gpu-1", "model_path": "m", "engine_name": "vllm"])
        #expect(queued.status == 202)
        let id = try #require(queued.json?["id"]?.stringValue)
        #expect(try h.execute(.get, "/api/v1/quicktest/\(id)").json?["status"]?.stringValue == "queued")

        let beat = try h.execute(.post, "/api/v1/agents/gpu-1/heartbeat", json: [:], token: "agent-token-1")
        #expect(beat.status == 200)
        #expect(beat.json?["commands"]?.arrayValue?.first?["test_id"]?.stringValue == id)
        #expect(try h.execute(.get, "/api/v1/quicktest/\(id)").json?["status"]?.stringValue == "dispatched")
        #expect(try h.execute(.get, "/api/v1/quicktest/?status=dispatched").json?["total"]?.intValue == 1)
        // A second heartbeat hands out nothing and changes nothing.
        #expect(try h.execute(.post, "/api/v1/agents/\(agent)/heartbeat", json: [:], token: "agent-token-1")
            .json?["commands"]?.arrayValue?.isEmpty == true)

        #expect(try h.execute(.post, "/api/v1/quicktest/\(id)/status", json: ["status": "running"], token: "agent-token-1").status == 200)
        #expect(try h.execute(.post, "/api/v1/quicktest/\(id)/status", json: ["status": "completed"], token: "agent-token-1").status == 200)
        let statuses = events.frames.filter { $0.type == "status" && $0.data["test_id"]?.stringValue == id }
        #expect(statuses.map { $0.data["status"]?.stringValue ?? "" } == ["queued", "dispatched", "running", "completed"])
    }

    @Test func dispatchedTestsStillTimeOutAndCampaignsAdvance() throws {
        let h = try APIHarness.control(quickTestTimeout: 0.3)
        let runner = h.services.runner
        runner.start()
        defer { h.close() }
        defer { runner.stop() }
        let agent = try h.addAgent(name: "gpu-1")
        let id = try CampaignAPITests.launch(
            h, agent: agent, config: CampaignAPITests.config(models: [["name": "m"]], engines: [["name": "vllm"]], benchmarks: ["a", "b"]))
        // The agent takes the first run's command and then goes silent: the test is dispatched,
        // times out, and the campaign moves on to the second run.
        try waitUntil { try h.store.quickTests.commands(agentID: agent, status: "queued").count == 1 }
        #expect(try h.execute(.post, "/api/v1/agents/\(agent)/heartbeat", json: [:]).json?["commands"]?.arrayValue?.count == 1)
        let first = try #require(try h.store.quickTests.commands(agentID: agent).first?.testID)
        #expect(try h.store.quickTests.get(id: first)?.status == "dispatched")
        #expect(try waitUntil(5) { try CampaignAPITests.campaign(h, id)["status"]?.stringValue == "completed" })
        #expect(try h.store.quickTests.get(id: first)?.error == "timed out")
        #expect(try CampaignAPITests.logLines(h, id).contains("[1/2] failed: timed out"))
    }

    @Test func resultReportThenCompletedStatusPublishesCompletedOnce() throws {
        let h = try APIHarness.control()
        defer { h.close() }
        let agent = try h.addAgent(name: "gpu-1", token: "agent-token-1")
        let queued = try h.execute(.post, "/api/v1/quicktest/", json: ["agent_id": .string(agent), "model_path": "m", "engine_name": "vllm"])
        let id = try #require(queued.json?["id"]?.stringValue)
        let command = try #require(queued.json?["command_id"]?.stringValue)
        let events = h.subscribe(source: id)
        let token = "agent-token-1"
        #expect(try h.execute(.post, "/api/v1/agents/gpu-1/results", json: ["command_id": .string(command), "status": "running"], token: token).status == 202)
        #expect(try h.execute(.post, "/api/v1/quicktest/\(id)/status", json: ["status": "running"], token: token).status == 200)
        let report = try h.execute(
            .post, "/api/v1/agents/gpu-1/results",
            json: [
                "command_id": .string(command), "status": "completed",
                "result_data": ["model": "m", "engine": "vllm", "suite_name": "quick", "results": []],
            ], token: token)
        #expect(report.status == 202, "\(report.json)")
        #expect(try h.execute(.post, "/api/v1/quicktest/\(id)/status", json: ["status": "completed"], token: token).status == 200)
        // A late `running` does not bring a finished test back.
        #expect(try h.execute(.post, "/api/v1/quicktest/\(id)/status", json: ["status": "running"], token: token).status == 200)
        #expect(try h.execute(.get, "/api/v1/quicktest/\(id)").json?["status"]?.stringValue == "completed")
        let statuses = events.frames.filter { $0.type == "status" }.map { $0.data["status"]?.stringValue ?? "" }
        #expect(statuses == ["running", "completed"])
    }

    @Test func agentNamesAreAcceptedEverywhereAndIdsWin() throws {
        let h = try APIHarness.control()
        defer { h.close() }
        let agent = try h.addAgent(name: "gpu-a100-1", cpuArch: "aarch64")
        // A legacy row whose name is another agent's id: the id must win.
        let other = try h.addAgent(name: "other-box")
        try h.store.database.write { conn in
            _ = try conn.run("UPDATE agents SET name = ? WHERE id = ?", [.text(agent), .text(other)])
        }

        let test = try h.execute(.post, "/api/v1/quicktest/", json: ["agent_id": "gpu-a100-1", "model_path": "m", "engine_name": "vllm"])
        #expect(test.status == 202, "\(test.json)")
        let testID = try #require(test.json?["id"]?.stringValue)
        #expect(try h.execute(.get, "/api/v1/quicktest/\(testID)").json?["agent_id"]?.stringValue == agent)
        let byID = try h.execute(.post, "/api/v1/quicktest/", json: ["agent_id": .string(agent), "model_path": "m", "engine_name": "vllm"])
        let byIDTest = try #require(byID.json?["id"]?.stringValue)
        #expect(try h.execute(.get, "/api/v1/quicktest/\(byIDTest)").json?["agent_name"]?.stringValue == "gpu-a100-1")
        #expect(try h.execute(.post, "/api/v1/quicktest/", json: ["agent_id": "nobody", "model_path": "m", "engine_name": "vllm"]).status == 404)

        let campaign = try h.execute(.post, "/api/v1/campaigns/", json: ["name": "c", "agent_id": "gpu-a100-1"])
        #expect(campaign.status == 201)
        let campaignID = try #require(campaign.json?["id"]?.stringValue)
        #expect(try h.execute(.get, "/api/v1/campaigns/\(campaignID)").json?["agent_id"]?.stringValue == agent)
        #expect(try h.execute(.post, "/api/v1/campaigns/", json: ["name": "c", "agent_id": "nobody"]).status == 404)
        let moved = try h.execute(.put, "/api/v1/campaigns/\(campaignID)/config", json: ["config": [:], "agent_id": "other-box"])
        #expect(moved.status == 404)  // "other-box" is no name any more: the row is called <agent's id>
        #expect(try h.execute(.put, "/api/v1/campaigns/\(campaignID)/config", json: ["config": [:], "agent_id": .string(other)]).status == 200)
        #expect(try h.execute(.get, "/api/v1/campaigns/\(campaignID)").json?["agent_id"]?.stringValue == other)

        let capabilities = try h.execute(.get, "/api/v1/quicktest/agent-capabilities?agent_id=gpu-a100-1")
        #expect(capabilities.status == 200)
        #expect(capabilities.json?[agent]?["engines"]?["exllamav2"]?["compatible"]?.boolValue == false)
        // The id wins over the other row's name (which is that same id).
        let idWins = try h.execute(.get, "/api/v1/quicktest/agent-capabilities?agent_id=\(agent)")
        #expect(idWins.json?.objectValue?.keys == [agent])

        #expect(try h.execute(.get, "/api/v1/agents/gpu-a100-1/settings").status == 200)
        #expect(try h.execute(.post, "/api/v1/agents/gpu-a100-1/cleanup", json: [:]).status == 202)
        let install = try h.execute(.post, "/api/v1/engines/agents/gpu-a100-1/install", json: ["engine_name": "vllm"])
        #expect(install.status == 202)
        #expect(try h.store.quickTests.commands(agentID: agent).map(\.type).contains("install_engine"))
    }
}
