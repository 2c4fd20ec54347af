#if canImport(Glibc)
import Glibc
#endif
@testable import KittAPI
import KittJSON
import KittStore
import KittTestSupport
import Testing

@Suite struct CampaignAPITests {
    static func config(models: [JSON], engines: [JSON], benchmarks: [JSON]? = nil) -> JSON {
        var object = JSONObject([("models", .array(models)), ("engines", .array(engines))])
        if let benchmarks { object["benchmarks"] = .array(benchmarks) }
        return .object(object)
    }

    /// Creates and launches a campaign; returns its id.
    static func launch(_ h: APIHarness, agent: String, config: JSON) throws -> String {
        let created = try h.execute(.post, "/api/v1/campaigns/", json: ["name": "c", "agent_id": .string(agent), "config": config])
        let id = try #require(created.json?["id"]?.stringValue)
        let launched = try h.execute(.post, "/api/v1/campaigns/\(id)/launch")
        #expect(launched.status == 202)
        #expect(launched.json?["status"]?.stringValue == "queued")
        return id
    }

    /// A fake agent: takes every queued run_test command once and reports running, one log
    /// line and the outcome `decide` picks, through the real endpoints. Stops when `done`
    /// (checked before each round).
    @discardableResult
    static func driveAgent(
        _ h: APIHarness, agent: String, seconds: Double = 10, decide: (QuickTest) -> (String, String?) = { _ in ("completed", nil) },
        until done: () throws -> Bool
    ) throws -> [QuickTest] {
        var handled: Set<String> = []
        var tests: [QuickTest] = []
        try waitUntil(seconds) {
            // Checked first, so a command queued since the last round is left alone once `done`.
            if try done() { return true }
            for command in try h.store.quickTests.commands(agentID: agent, status: "queued")
            where !handled.contains(command.id) {
                handled.insert(command.id)
                guard let testID = command.testID, let test = try h.store.quickTests.get(id: testID) else { continue }
                tests.append(test)
                #expect(try h.execute(.post, "/api/v1/quicktest/\(testID)/status", json: ["status": "running"]).status == 200)
                #expect(try h.execute(.post, "/api/v1/quicktest/\(testID)/logs", json: ["line": "benchmarking"]).status == 200)
                let (status, error) = decide(test)
                var body = JSONObject([("status", .string(status))])
                if let error { body["error"] = .string(error) }
                #expect(try h.execute(.post, "/api/v1/quicktest/\(testID)/status", json: .object(body)).status == 200)
            }
            return try done()
        }
        return tests
    }

    static func campaign(_ h: APIHarness, _ id: String) throws -> JSON {
        try h.execute(.get, "/api/v1/campaigns/\(id)").json ?? .null
    }

    static func logLines(_ h: APIHarness, _ id: String) throws -> [String] {
        try h.execute(.get, "/api/v1/campaigns/\(id)/logs").json?["lines"]?.arrayValue?.compactMap { $0["line"]?.stringValue } ?? []
    }

    // MARK: - CRUD and validation

    @Test func createValidatesAndPublishes() throws {
        let h = try APIHarness.control()
        defer { h.close() }
        let agent = try h.addAgent(name: "gpu-1")
        let events = h.subscribe()
        #expect(try h.execute(.post, "/api/v1/campaigns", json: ["name": "x"], admin: false).status == 401)
        #expect(try h.execute(.post, "/api/v1/campaigns", json: ["name": "x"], token: "bad").status == 403)
        #expect(try h.execute(.post, "/api/v1/campaigns", json: [:]).status == 400)
        #expect(try h.execute(.post, "/api/v1/campaigns", json: ["name": ""]).status == 400)
        #expect(try h.execute(.post, "/api/v1/campaigns", json: ["name": "x", "config": "nope"]).status == 400)
        let noName = try h.execute(
            .post, "/api/v1/campaigns",
            json: ["name": "x", "config": CampaignAPITests.config(models: [["name": "a"], ["path": "/p"]], engines: [])])
        #expect(noName.status == 400)
        #expect(noName.error?.contains("models[1]") == true)
        let engineNoName = try h.execute(
            .post, "/api/v1/campaigns",
            json: ["name": "x", "config": CampaignAPITests.config(models: [], engines: [["mode": "docker"]])])
        #expect(engineNoName.status == 400)
        #expect(engineNoName.error?.contains("engines[0]") == true)
        #expect(
            try h.execute(.post, "/api/v1/campaigns", json: ["name": "x", "config": ["benchmarks": [1]]]).status == 400)
        #expect(try h.execute(.post, "/api/v1/campaigns", json: ["name": "x", "agent_id": "ffffffffffffffff"]).status == 404)

        let created = try h.execute(
            .post, "/api/v1/campaigns/",
            json: [
                "name": "nightly", "description": "all engines", "agent_id": .string(agent),
                "config": CampaignAPITests.config(models: [["name": "org/m", "path": "/m"]], engines: [["name": "vllm"]]),
            ])
        #expect(created.status == 201)
        let id = try #require(created.json?["id"]?.stringValue)
        #expect(created.json?["status"]?.stringValue == "draft")
        let frame = try #require(events.frames.first)
        #expect(frame.type == "campaign_created")
        #expect(frame.data["campaign_id"]?.stringValue == id && frame.data["name"]?.stringValue == "nightly")

        // A draft may be saved incomplete.
        #expect(try h.execute(.post, "/api/v1/campaigns", json: ["name": "empty draft"]).status == 201)
    }

    @Test func listGetConfigDeleteAndLogs() throws {
        let h = try APIHarness.control()
        defer { h.close() }
        let agent = try h.addAgent(name: "gpu-1")
        let first = try #require(try h.execute(.post, "/api/v1/campaigns", json: ["name": "one"]).json?["id"]?.stringValue)
        usleep(2_000)
        let second = try #require(
            try h.execute(
                .post, "/api/v1/campaigns",
                json: [
                    "name": "two", "agent_id": .string(agent),
                    "config": CampaignAPITests.config(models: [["name": "m"]], engines: [["name": "vllm", "mode": "native"]]),
                ]
            ).json?["id"]?.stringValue)

        let list = try h.execute(.get, "/api/v1/campaigns/", admin: false)
        #expect(list.status == 200)
        #expect(list.json?["total"]?.intValue == 2)
        let items = try #require(list.json?["items"]?.arrayValue)
        #expect(items.map { $0["id"]?.stringValue } == [second, first])
        #expect(items.allSatisfy { $0["config"] == nil })
        #expect(try h.execute(.get, "/api/v1/campaigns?status=draft").json?["total"]?.intValue == 2)
        #expect(try h.execute(.get, "/api/v1/campaigns?status=running").json?["total"]?.intValue == 0)
        #expect(try h.execute(.get, "/api/v1/campaigns?per_page=x").status == 400)

        let got = try h.execute(.get, "/api/v1/campaigns/\(second)", admin: false)
        #expect(got.status == 200)
        #expect(got.json?["agent_id"]?.stringValue == agent)
        // Stored as sent: no defaults written in (they apply when the campaign runs).
        #expect(got.json?["config"]?["benchmarks"] == nil)
        #expect(got.json?["config"]?["suite_name"] == nil)
        #expect(got.json?["config"]?["engines"]?.arrayValue?.first?["mode"]?.stringValue == "native")
        #expect(try h.execute(.get, "/api/v1/campaigns/ffffffffffffffff").status == 404)

        let newConfig = CampaignAPITests.config(
            models: [["name": "a"], ["name": "b"]], engines: [["name": "vllm"]], benchmarks: ["throughput", "latency"])
        #expect(try h.execute(.put, "/api/v1/campaigns/\(first)/config", json: newConfig, admin: false).status == 401)
        let updated = try h.execute(.put, "/api/v1/campaigns/\(first)/config", json: newConfig)
        #expect(updated.status == 200)
        #expect(updated.json?["updated"]?.boolValue == true)
        #expect(try h.execute(.get, "/api/v1/campaigns/\(first)").json?["config"]?["benchmarks"] == ["throughput", "latency"])
        #expect(
            try h.execute(.put, "/api/v1/campaigns/\(first)/config", json: ["models": [["path": "/x"]]]).status == 400)
        #expect(try h.execute(.put, "/api/v1/campaigns/ffffffffffffffff/config", json: newConfig).status == 404)

        let logs = try h.execute(.get, "/api/v1/campaigns/\(first)/logs", admin: false)
        #expect(logs.status == 200 && logs.json?["lines"]?.arrayValue?.isEmpty == true)
        #expect(try h.execute(.get, "/api/v1/campaigns/ffffffffffffffff/logs").status == 404)

        #expect(try h.execute(.delete, "/api/v1/campaigns/\(first)", admin: false).status == 401)
        #expect(try h.execute(.delete, "/api/v1/campaigns/\(first)").json?["deleted"]?.boolValue == true)
        #expect(try h.execute(.delete, "/api/v1/campaigns/\(first)").status == 404)
        #expect(try h.execute(.get, "/api/v1/campaigns/\(first)").status == 404)
    }

    @Test func launchAndCancelValidation() throws {
        let h = try APIHarness.control()
        defer { h.close() }
        let agent = try h.addAgent(name: "gpu-1")
        let full = CampaignAPITests.config(models: [["name": "m"]], engines: [["name": "vllm"]])
        let noAgent = try #require(
            try h.execute(.post, "/api/v1/campaigns", json: ["name": "a", "config": full]).json?["id"]?.stringValue)
        let noRuns = try #require(
            try h.execute(.post, "/api/v1/campaigns", json: ["name": "b", "agent_id": .string(agent), "config": ["models": [["name": "m"]]]])
                .json?["id"]?.stringValue)
        let good = try #require(
            try h.execute(.post, "/api/v1/campaigns", json: ["name": "c", "agent_id": .string(agent), "config": full]).json?["id"]?.stringValue)

        #expect(try h.execute(.post, "/api/v1/campaigns/\(good)/launch", admin: false).status == 401)
        #expect(try h.execute(.post, "/api/v1/campaigns/ffffffffffffffff/launch", admin: false).status == 401)
        #expect(try h.execute(.post, "/api/v1/campaigns/ffffffffffffffff/launch").status == 404)
        let a = try h.execute(.post, "/api/v1/campaigns/\(noAgent)/launch")
        #expect(a.status == 400 && a.error?.contains("agent") == true)
        #expect(try h.execute(.post, "/api/v1/campaigns/\(noRuns)/launch").status == 400)
        #expect(try h.execute(.post, "/api/v1/campaigns/\(good)/cancel").status == 400)  // a draft cannot be cancelled

        #expect(try h.execute(.post, "/api/v1/campaigns/\(good)/launch").status == 202)
        #expect(try CampaignAPITests.campaign(h, good)["status"]?.stringValue == "queued")
        #expect(try h.execute(.post, "/api/v1/campaigns/\(good)/launch").status == 400)  // only draft or failed
        #expect(try h.execute(.put, "/api/v1/campaigns/\(good)/config", json: full).status == 400)  // draft only
        #expect(try h.execute(.post, "/api/v1/campaigns/\(good)/cancel", admin: false).status == 401)
        #expect(try h.execute(.post, "/api/v1/campaigns/ffffffffffffffff/cancel").status == 404)
        let cancelled = try h.execute(.post, "/api/v1/campaigns/\(good)/cancel")
        #expect(cancelled.status == 200 && cancelled.json?["status"]?.stringValue == "cancelled")
        #expect(try h.execute(.post, "/api/v1/campaigns/\(good)/cancel").status == 400)
        #expect(try CampaignAPITests.campaign(h, good)["completed_at"]?.stringValue != nil)
    }

    // MARK: - Running

    @Test func twoByTwoCampaignRunsToCompletion() throws {
        let h = try APIHarness.control()
        let runner = h.services.runner
        runner.start()
        defer { h.close() }
        defer { runner.stop() }
        let agent = try h.addAgent(name: "gpu-1")
        let config = CampaignAPITests.config(
            models: [["name": "llama-a", "path": "/models/a.gguf"], ["name": "llama-b"]],
            engines: [["name": "llama_cpp"], ["name": "ollama", "mode": "native"]])
        let created = try h.execute(.post, "/api/v1/campaigns", json: ["name": "2x2", "agent_id": .string(agent), "config": config])
        let id = try #require(created.json?["id"]?.stringValue)
        let events = h.subscribe(source: id)
        #expect(try h.execute(.post, "/api/v1/campaigns/\(id)/launch").status == 202)

        let tests = try CampaignAPITests.driveAgent(
            h, agent: agent,
            decide: { test in test.modelPath == "/models/a.gguf" && test.engineName == "ollama" ? ("failed", "OOM") : ("completed", nil) },
            until: { try CampaignAPITests.campaign(h, id)["status"]?.stringValue == "completed" })

        let final = try CampaignAPITests.campaign(h, id)
        #expect(final["status"]?.stringValue == "completed")
        #expect(final["total_runs"]?.intValue == 4)
        #expect(final["succeeded"]?.intValue == 3)
        #expect(final["failed"]?.intValue == 1)
        #expect(final["started_at"]?.stringValue != nil && final["completed_at"]?.stringValue != nil)
        #expect(tests.map { "\($0.modelPath)|\($0.engineName)|\($0.engineMode)|\($0.campaignID ?? "")" } == [
            "/models/a.gguf|llama_cpp|docker|\(id)", "/models/a.gguf|ollama|native|\(id)",
            "llama-b|llama_cpp|docker|\(id)", "llama-b|ollama|native|\(id)",
        ])

        let expectedLines = [
            "Campaign started: 4 runs on agent gpu-1",
            "[1/4] Queuing: llama-a / llama_cpp / throughput", "[1/4] completed",
            "[2/4] Queuing: llama-a / ollama / throughput", "[2/4] failed: OOM",
            "[3/4] Queuing: llama-b / llama_cpp / throughput", "[3/4] completed",
            "[4/4] Queuing: llama-b / ollama / throughput", "[4/4] completed",
            "Campaign completed: 3 succeeded, 1 failed of 4 runs",
        ]
        #expect(try CampaignAPITests.logLines(h, id) == expectedLines)

        // The campaign's stream: its own events in order, each test's status in between.
        waitUntil { events.frames.last?.data["status"]?.stringValue == "completed" && events.frames.last?.data["campaign_id"] != nil }
        let frames = events.frames
        #expect(frames.map(\.id) == frames.map(\.id).sorted())
        let campaignEvents = frames.filter { $0.data["campaign_id"] != nil }.map { frame in
            frame.type == "log" ? "log:\(frame.data["line"]?.stringValue ?? "")" : "status:\(frame.data["status"]?.stringValue ?? "")"
        }
        #expect(campaignEvents == ["status:queued", "status:running"] + expectedLines.map { "log:\($0)" } + ["status:completed"])
        let testStatuses = frames.filter { $0.data["test_id"] != nil }.map { $0.data["status"]?.stringValue ?? "" }
        #expect(testStatuses == Array(repeating: ["queued", "running", "completed"], count: 4).flatMap { $0 }.enumerated().map {
            $0.offset == 5 ? "failed" : $0.element
        })
        // The first test's queued status comes right after its Queuing line.
        if let queuing = frames.firstIndex(where: { $0.data["line"]?.stringValue == expectedLines[1] }) {
            #expect(frames[queuing + 1].data["test_id"]?.stringValue == tests.first?.id)
        }
    }

    @Test func cancelStopsQueueing() throws {
        let h = try APIHarness.control()
        let runner = h.services.runner
        runner.start()
        defer { h.close() }
        defer { runner.stop() }
        let agent = try h.addAgent(name: "gpu-1")
        let config = CampaignAPITests.config(
            models: [["name": "m"]], engines: [["name": "vllm"]], benchmarks: ["b1", "b2", "b3", "b4"])
        let id = try CampaignAPITests.launch(h, agent: agent, config: config)

        // Run 1 completes; run 2 is queued and then picked up (running) when we cancel.
        try CampaignAPITests.driveAgent(h, agent: agent, until: {
            try h.store.quickTests.commands(agentID: agent).count == 2
        })
        let second = try #require(try h.store.quickTests.commands(agentID: agent).last?.testID)
        #expect(try h.store.quickTests.get(id: second)?.status == "queued")
        #expect(try h.execute(.post, "/api/v1/quicktest/\(second)/status", json: ["status": "running"]).status == 200)
        let cancelled = try h.execute(.post, "/api/v1/campaigns/\(id)/cancel")
        #expect(cancelled.status == 200)
        #expect(cancelled.json?["status"]?.stringValue == "cancelled")
        // The agent finishes the running test anyway: nothing more is queued.
        #expect(try h.execute(.post, "/api/v1/quicktest/\(second)/status", json: ["status": "completed"]).status == 200)
        runner.waitForQueuedSteps()  // the runner has seen that completion
        #expect(try h.store.quickTests.commands(agentID: agent).count == 2)
        let final = try CampaignAPITests.campaign(h, id)
        #expect(final["status"]?.stringValue == "cancelled")
        #expect(final["succeeded"]?.intValue == 1)
        #expect(try CampaignAPITests.logLines(h, id).last == "Campaign cancelled")

        // Cancelling while the next test is still queued cancels that test and its command too.
        let id2 = try CampaignAPITests.launch(h, agent: agent, config: config)
        try waitUntil { try h.store.quickTests.commands(agentID: agent, status: "queued").count == 1 }
        let queued = try #require(try h.store.quickTests.commands(agentID: agent, status: "queued").first?.testID)
        #expect(try h.execute(.post, "/api/v1/campaigns/\(id2)/cancel").status == 200)
        #expect(try h.store.quickTests.get(id: queued)?.status == "cancelled")
        #expect(try h.store.quickTests.commands(agentID: agent, status: "queued").isEmpty)
        runner.waitForQueuedSteps()
        #expect(try h.store.quickTests.commands(agentID: agent).count == 3)
    }

    @Test func restartResumesWhereItWas() throws {
        let h = try APIHarness.control()
        defer { h.close() }
        var runner = h.services.runner
        runner.start()
        let agent = try h.addAgent(name: "gpu-1")
        let config = CampaignAPITests.config(
            models: [["name": "m"]], engines: [["name": "vllm"]], benchmarks: ["b1", "b2", "b3", "b4"])
        let id = try CampaignAPITests.launch(h, agent: agent, config: config)
        try CampaignAPITests.driveAgent(h, agent: agent, until: {
            try h.store.quickTests.commands(agentID: agent).count == 2
        })
        let second = try #require(try h.store.quickTests.commands(agentID: agent).last?.testID)

        // Server stops with run 2 in flight (queued).
        runner.stop()
        try h.reopen()
        runner = h.services.runner
        runner.start()
        defer { runner.stop() }
        runner.waitForQueuedSteps()  // start() queued the resume of every active campaign
        #expect(try h.store.quickTests.commands(agentID: agent).count == 2)  // still waiting for run 2
        #expect(try CampaignAPITests.campaign(h, id)["current_test_id"]?.stringValue == second)

        // Run 2 completes after the restart; the rest follows.
        try CampaignAPITests.driveAgent(h, agent: agent, until: {
            try CampaignAPITests.campaign(h, id)["status"]?.stringValue == "completed"
        })
        let final = try CampaignAPITests.campaign(h, id)
        #expect(final["succeeded"]?.intValue == 4 && final["failed"]?.intValue == 0)
        #expect(try h.store.quickTests.commands(agentID: agent).count == 4)
        #expect(try CampaignAPITests.logLines(h, id).filter { $0.contains("Queuing") }.count == 4)

        // A run that finished while no runner was up is counted once, not queued again.
        let id2 = try CampaignAPITests.launch(h, agent: agent, config: config)
        try waitUntil { try h.store.quickTests.commands(agentID: agent, status: "queued").count == 1 }
        runner.stop()
        let inFlight = try #require(try h.store.quickTests.commands(agentID: agent, status: "queued").first?.testID)
        _ = try h.store.quickTests.setStatus(id: inFlight, status: "failed", error: "crashed")
        try h.reopen()
        runner = h.services.runner
        runner.start()
        try CampaignAPITests.driveAgent(h, agent: agent, until: {
            try CampaignAPITests.campaign(h, id2)["status"]?.stringValue == "completed"
        })
        let second2 = try CampaignAPITests.campaign(h, id2)
        #expect(second2["succeeded"]?.intValue == 3 && second2["failed"]?.intValue == 1)
        #expect(try h.store.quickTests.commands(agentID: agent).count == 8)
        #expect(try CampaignAPITests.logLines(h, id2).contains("[1/4] failed: crashed"))
    }

    @Test func stuckQuickTestsTimeOut() throws {
        let h = try APIHarness.control(quickTestTimeout: 0.2)
        defer { h.close() }
        let agent = try h.addAgent(name: "gpu-1")
        let config = CampaignAPITests.config(models: [["name": "m"]], engines: [["name": "vllm"]], benchmarks: ["b1", "b2"])
        // Launched before any runner exists: stays queued until one starts.
        let id = try CampaignAPITests.launch(h, agent: agent, config: config)
        // The harness's runner is not started, so nothing can have picked it up.
        #expect(try CampaignAPITests.campaign(h, id)["status"]?.stringValue == "queued")
        let runner = h.services.runner
        runner.start()
        defer { runner.stop() }
        #expect(try waitUntil(5) { try CampaignAPITests.campaign(h, id)["status"]?.stringValue == "completed" })
        let final = try CampaignAPITests.campaign(h, id)
        #expect(final["failed"]?.intValue == 2 && final["succeeded"]?.intValue == 0)
        #expect(try CampaignAPITests.logLines(h, id).contains("[1/2] failed: timed out"))
        let tests = try h.store.quickTests.list(status: "failed", agentName: nil, limit: 10, offset: 0).items
        #expect(tests.count == 2 && tests.allSatisfy { $0.error == "timed out" })
        #expect(try h.store.quickTests.commands(agentID: agent, status: "queued").isEmpty)
        // The campaign's runs, through the list's campaign_id filter (and none for another id).
        let runs = try h.execute(.get, "/api/v1/quicktest/?campaign_id=\(id)").json
        #expect(runs?["total"]?.intValue == 2)
        #expect(runs?["items"]?.arrayValue?.allSatisfy { $0["campaign_id"]?.stringValue == id } == true)
        #expect(try h.execute(.get, "/api/v1/quicktest/?campaign_id=0000000000000000").json?["total"]?.intValue == 0)
    }

    @Test func campaignWithNothingRunnableFails() throws {
        let h = try APIHarness.control()
        let runner = h.services.runner
        runner.start()
        defer { h.close() }
        defer { runner.stop() }
        let arm = try h.addAgent(name: "arm-box", cpuArch: "arm64")
        let id = try CampaignAPITests.launch(
            h, agent: arm, config: CampaignAPITests.config(models: [["name": "m"]], engines: [["name": "exllamav2"]]))
        #expect(try waitUntil { try CampaignAPITests.campaign(h, id)["status"]?.stringValue == "failed" })
        let final = try CampaignAPITests.campaign(h, id)
        #expect(final["error"]?.stringValue?.contains("nothing can run") == true)
        #expect(try h.store.quickTests.commands(agentID: arm).isEmpty)

        // A failed campaign can be launched again (and fails again the same way).
        #expect(try h.execute(.post, "/api/v1/campaigns/\(id)/launch").status == 202)
        #expect(try waitUntil { try CampaignAPITests.campaign(h, id)["status"]?.stringValue == "failed" })

        // Incompatible runs inside a runnable campaign are skipped (counted failed), the rest run.
        let mixed = try CampaignAPITests.launch(
            h, agent: arm,
            config: CampaignAPITests.config(models: [["name": "m"]], engines: [["name": "exllamav2"], ["name": "vllm"]]))
        try CampaignAPITests.driveAgent(h, agent: arm, until: {
            try CampaignAPITests.campaign(h, mixed)["status"]?.stringValue == "completed"
        })
        let done = try CampaignAPITests.campaign(h, mixed)
        #expect(done["succeeded"]?.intValue == 1 && done["failed"]?.intValue == 1)
        #expect(try CampaignAPITests.logLines(h, mixed).contains { $0.hasPrefix("[1/2] Skipped: m / exllamav2 / throughput") })
    }
}
