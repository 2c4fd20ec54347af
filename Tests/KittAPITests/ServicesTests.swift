import Dispatch
import KittJSON
import KittHTTP
import KittStore
import KittTestSupport
import KittThreads
import Synchronization
import Testing

@testable import KittAPI

/// The rules that moved from the routes into `AgentsService`, `QuickTestsService` and
/// `CampaignsService`, called directly (no router), and the shape they must keep: store work
/// never on an event-loop thread, answers through completions.
@Suite struct ServicesTests {
    /// What a service answered, and whether it answered on a loop thread.
    struct Answer<T: Sendable>: Sendable {
        let result: Result<T, any Error>
        let onLoopThread: Bool

        func get() throws -> T { try result.get() }
    }

    /// Calls `start` from a thread flagged as an event loop (as `EventLoop.run` flags its
    /// threads) and waits for the completion. Debug builds trap when SQLite is reached on a
    /// flagged thread (`Database.read`/`write`), so a service that did its store work inline
    /// instead of handing it off kills this test.
    static func fromLoop<T: Sendable>(_ start: (@escaping Completion<T>) -> Void) -> Answer<T> {
        let box = Mutex<Answer<T>?>(nil)
        let done = DispatchSemaphore(value: 0)
        EventLoopThread.mark(true)
        start { result in
            box.withLock { $0 = Answer(result: result, onLoopThread: EventLoopThread.isCurrent) }
            done.signal()
        }
        EventLoopThread.mark(false)
        guard done.wait(timeout: .now() + 60) == .success, let answer = box.withLock({ $0 }) else {
            return Answer(result: .failure(HarnessError("no answer within 60 s")), onLoopThread: false)
        }
        return answer
    }

    static func status(of error: (any Error)?) -> Int? { (error as? HTTPError)?.status.code }

    @Test func everyServiceCallLeavesTheLoopThread() throws {
        let h = try APIHarness.control()
        defer { h.close() }
        let services = h.services
        let agent = try h.addAgent(name: "gpu-1", token: "agent-token-1")
        var answers: [Answer<Bool>] = []
        func record<T: Sendable>(_ answer: Answer<T>) -> T? {
            answers.append(Answer(result: answer.result.map { _ in true }, onLoopThread: answer.onLoopThread))
            return try? answer.get()
        }

        // Agents.
        _ = record(ServicesTests.fromLoop { services.agents.list(limit: 10, offset: 0, completion: $0) })
        _ = record(ServicesTests.fromLoop { services.agents.get(idOrName: "gpu-1", completion: $0) })
        _ = record(ServicesTests.fromLoop { services.agents.update(idOrName: agent, notes: "n", tags: nil, completion: $0) })
        _ = record(ServicesTests.fromLoop { services.agents.settings(idOrName: agent, completion: $0) })
        _ = record(ServicesTests.fromLoop { services.agents.updateSettings(idOrName: agent, [("heartbeat_interval_s", "30")], completion: $0) })
        _ = record(ServicesTests.fromLoop { services.agents.heartbeat(idOrName: agent, AgentHeartbeat(), completion: $0) })
        _ = record(ServicesTests.fromLoop { services.agents.cleanup(idOrName: agent, modelPath: nil, completion: $0) })

        // Quick tests.
        let asked = QuickTestsService.Request(agentIDOrName: "gpu-1", modelPath: "m", engineName: "vllm")
        let test = try #require(record(ServicesTests.fromLoop { services.quickTests.create(asked, completion: $0) }))
        _ = record(ServicesTests.fromLoop {
            services.quickTests.list(status: nil, agentName: nil, campaignID: nil, limit: 5, offset: 0, completion: $0)
        })
        _ = record(ServicesTests.fromLoop { services.quickTests.get(id: test.id, completion: $0) })
        _ = record(ServicesTests.fromLoop { services.quickTests.appendLog(testID: test.id, line: "l", agentID: nil, completion: $0) })
        _ = record(ServicesTests.fromLoop { services.quickTests.logs(testID: test.id, completion: $0) })
        _ = record(ServicesTests.fromLoop { services.quickTests.setStatus(testID: test.id, status: .running, error: nil, completion: $0) })
        _ = record(ServicesTests.fromLoop { services.quickTests.agents(nil, completion: $0) })
        _ = record(ServicesTests.fromLoop { services.quickTests.engineProfiles(engine: nil, completion: $0) })
        let report = AgentRequests.Report(commandID: nil, testID: test.id, document: nil, finished: true, testStatus: .completed)
        _ = record(ServicesTests.fromLoop { services.agents.report(agentIDOrName: agent, report, caller: .admin, completion: $0) })

        // Campaigns.
        let config = try CampaignConfig.validate(
            try #require(CampaignAPITests.config(models: [["name": "m"]], engines: [["name": "vllm"]]).objectValue))
        let campaign = try #require(record(ServicesTests.fromLoop {
            services.campaigns.create(name: "c", description: "", agentIDOrName: "gpu-1", config: config, completion: $0)
        }))
        _ = record(ServicesTests.fromLoop { services.campaigns.list(status: nil, limit: 5, offset: 0, completion: $0) })
        _ = record(ServicesTests.fromLoop { services.campaigns.get(id: campaign.id, completion: $0) })
        _ = record(ServicesTests.fromLoop { services.campaigns.updateConfig(id: campaign.id, config: config, agentIDOrName: nil, completion: $0) })
        _ = record(ServicesTests.fromLoop { services.campaigns.launch(id: campaign.id, completion: $0) })
        _ = record(ServicesTests.fromLoop { services.campaigns.logs(id: campaign.id, completion: $0) })
        _ = record(ServicesTests.fromLoop { services.campaigns.cancel(id: campaign.id, completion: $0) })
        _ = record(ServicesTests.fromLoop { services.campaigns.delete(id: campaign.id, completion: $0) })
        _ = record(ServicesTests.fromLoop { services.agents.rotateToken(idOrName: agent, tokenHash: "00", completion: $0) })
        _ = record(ServicesTests.fromLoop { services.agents.delete(idOrName: agent, completion: $0) })

        #expect(answers.count == 26)
        for (index, answer) in answers.enumerated() {
            #expect(throws: Never.self, "call \(index)") { try answer.get() }
            #expect(!answer.onLoopThread, "call \(index) answered on the loop thread")
        }
        #expect(try h.store.quickTests.get(id: test.id)?.status == .completed)
    }

    /// The routes of the three aggregates are registered without the `OffLoop` wrapper: the
    /// handler runs on the loop thread up to its deferred answer, so it must hand every store
    /// read (agent-token checks included) to the workers. A debug build traps if one does not.
    @Test func agentQuickTestAndCampaignRoutesNeverReadTheStoreOnTheLoop() throws {
        let h = try APIHarness.control()
        defer { h.close() }
        let agentToken = "agent-token-for-the-loop-test"
        let agent = try h.addAgent(name: "gpu-1", token: agentToken)
        func call(_ method: HTTPMethod, _ target: String, _ json: JSON? = nil, token: String? = nil) -> TestResponse {
            var headers = HTTPHeaders()
            headers.add(name: "Host", value: "localhost")
            headers.add(name: "Authorization", value: "Bearer \(token ?? h.token)")
            if json != nil { headers.add(name: "Content-Type", value: "application/json") }
            let request = HTTPRequest(method: method, target: target, headers: headers, body: json?.serialized() ?? [])
            EventLoopThread.mark(true)
            let response = h.router.respond(to: request)
            EventLoopThread.mark(false)
            return APIHarness.resolve(response)
        }
        #expect(call(.get, "/api/v1/agents").status == 200)
        #expect(call(.get, "/api/v1/agents/gpu-1").status == 200)
        #expect(call(.patch, "/api/v1/agents/gpu-1", ["notes": "n"]).status == 200)
        #expect(call(.get, "/api/v1/agents/gpu-1/settings").status == 200)
        #expect(call(.post, "/api/v1/agents/gpu-1/heartbeat", [:], token: agentToken).status == 200)
        #expect(call(.post, "/api/v1/agents/gpu-1/heartbeat", [:], token: "not-a-token").status == 403)
        let created = call(.post, "/api/v1/quicktest", ["agent_id": .string(agent), "model_path": "m", "engine_name": "vllm"])
        let test = try #require(created.json?["id"]?.stringValue)
        #expect(call(.post, "/api/v1/quicktest/\(test)/logs", ["line": "x"], token: agentToken).status == 200)
        #expect(call(.post, "/api/v1/quicktest/\(test)/status", ["status": "running"], token: agentToken).status == 200)
        #expect(call(.post, "/api/v1/agents/gpu-1/results", ["test_id": .string(test), "status": "done"], token: agentToken).status == 202)
        #expect(call(.get, "/api/v1/quicktest/\(test)").json?["status"]?.stringValue == "completed")
        #expect(call(.get, "/api/v1/quicktest/?agent_name=gpu-1").json?["total"]?.intValue == 1)
        #expect(call(.get, "/api/v1/quicktest/\(test)/logs").status == 200)
        #expect(call(.get, "/api/v1/quicktest/agent-capabilities").status == 200)
        let campaign = call(.post, "/api/v1/campaigns", ["name": "c", "agent_id": "gpu-1"]).json?["id"]?.stringValue
        let id = try #require(campaign)
        #expect(call(.get, "/api/v1/campaigns/\(id)").status == 200)
        #expect(call(.post, "/api/v1/campaigns/\(id)/launch").status == 400)  // no runs
        #expect(call(.delete, "/api/v1/campaigns/\(id)").status == 200)
        #expect(call(.post, "/api/v1/agents/gpu-1/cleanup", [:]).status == 202)
        #expect(call(.post, "/api/v1/engines/agents/gpu-1/install", ["engine_name": "vllm"]).status == 202)
        #expect(call(.post, "/api/v1/engines/agents/nobody/install", ["engine_name": "vllm"]).status == 404)
        #expect(call(.post, "/api/v1/agents/gpu-1/rotate-token").status == 200)
        #expect(call(.delete, "/api/v1/agents/gpu-1").status == 200)
    }

    @Test func quickTestStatusPublishesOnceAndWakesTheRunnerItWasHanded() throws {
        let h = try APIHarness.control()
        defer { h.close() }
        h.services.runner.start()
        defer { h.services.runner.stop() }
        let quickTests = h.services.quickTests
        let agent = try h.addAgent(name: "gpu-1")
        let config = CampaignAPITests.config(models: [["name": "m"]], engines: [["name": "vllm"]], benchmarks: ["b1", "b2"])
        let id = try CampaignAPITests.launch(h, agent: agent, config: config)
        #expect(waitUntil { (try? h.store.quickTests.commands(agentID: agent).count) == 1 })
        let first = try #require(try h.store.quickTests.commands(agentID: agent).first?.testID)
        // The runner's step publishes the test's `queued` after its commit: let that step end
        // before subscribing, so only this test's own changes are in the stream.
        h.services.runner.waitForQueuedSteps()
        let events = h.subscribe(source: first)

        // Only the server may cancel; anything else is a 400 and changes nothing.
        #expect(ServicesTests.status(of: ServicesTests.fromLoop {
            quickTests.setStatus(testID: first, status: "paused", error: nil, completion: $0)
        }.result.error) == 400)
        #expect(try quickTests.setStatusNow(testID: first, status: .running, error: nil))
        #expect(try quickTests.setStatusNow(testID: first, status: .running, error: nil))  // no change: no event
        // Another agent's token finds nothing (false), changes nothing.
        #expect(try !quickTests.setStatusNow(testID: first, status: .failed, error: "x", agentID: "0000000000000000"))
        #expect(try quickTests.setStatusNow(testID: first, status: .completed, error: nil))
        #expect(events.frames.map { $0.data["status"]?.stringValue } == ["running", "completed"])

        // The completion woke the campaign's runner: the second run is queued without polling.
        h.services.runner.waitForQueuedSteps()
        #expect(try h.store.quickTests.commands(agentID: agent).count == 2)
        #expect(try CampaignAPITests.campaign(h, id)["next_index"]?.intValue == 1)
    }

    @Test func campaignLaunchRulesAndTheRunnerWakeUp() throws {
        let h = try APIHarness.control()
        defer { h.close() }
        let campaigns = h.services.campaigns
        let agent = try h.addAgent(name: "gpu-1")
        let config = try CampaignConfig.validate(
            try #require(CampaignAPITests.config(models: [["name": "m"]], engines: [["name": "vllm"]]).objectValue))
        func create(_ agent: String?, _ config: CampaignConfig) throws -> Campaign {
            try ServicesTests.fromLoop {
                campaigns.create(name: "c", description: "", agentIDOrName: agent, config: config, completion: $0)
            }.get()
        }
        func launch(_ id: String) -> (status: Int?, message: String?) {
            let error = ServicesTests.fromLoop { campaigns.launch(id: id, completion: $0) }.result.error
            return (ServicesTests.status(of: error), (error as? HTTPError)?.message)
        }

        #expect(launch(try create(nil, config).id).message == "campaign has no agent_id")
        #expect(launch(try create(agent, try CampaignConfig.validate(JSONObject())).id).message?.contains("at least one model") == true)
        #expect(ServicesTests.status(of: ServicesTests.fromLoop { campaigns.launch(id: "ffffffffffffffff", completion: $0) }.result.error) == 404)
        #expect(throws: HTTPError.self) { try create("nobody", config) }

        let gone = try h.addAgent(name: "gone")
        let orphan = try create(gone, config)
        _ = try h.store.agents.delete(idOrName: gone)
        #expect(launch(orphan.id).message == "campaign's agent '\(gone)' no longer exists")

        // Launch: queued, published, and the runner it was handed is woken — once it runs.
        let good = try create(agent, config)
        let events = h.subscribe(source: good.id)
        #expect(launch(good.id).status == nil)
        #expect(events.frames.map { $0.data["status"]?.stringValue } == ["queued"])
        #expect(launch(good.id).message == "campaign is queued; only draft or failed campaigns can be launched")
        let edit = ServicesTests.fromLoop { campaigns.updateConfig(id: good.id, config: config, agentIDOrName: nil, completion: $0) }
        #expect((edit.result.error as? HTTPError)?.message == "campaign is queued; only a draft's config can be changed")
        h.services.runner.waitForQueuedSteps()
        #expect(try h.store.quickTests.commands(agentID: agent).isEmpty)  // not started: wake-ups are ignored
        h.services.runner.start()
        defer { h.services.runner.stop() }
        h.services.runner.waitForQueuedSteps()
        #expect(try h.store.quickTests.commands(agentID: agent).count == 1)

        #expect(throws: Never.self) { try ServicesTests.fromLoop { campaigns.cancel(id: good.id, completion: $0) }.get() }
        let again = ServicesTests.fromLoop { campaigns.cancel(id: good.id, completion: $0) }
        #expect((again.result.error as? HTTPError)?.message == "campaign is cancelled; only queued or running campaigns can be cancelled")
        #expect(try ServicesTests.fromLoop { campaigns.delete(id: good.id, completion: $0) }.get())
        #expect(try !ServicesTests.fromLoop { campaigns.delete(id: good.id, completion: $0) }.get())
    }

    @Test func agentRulesPublishAfterTheWriteAndScopeReports() throws {
        let h = try APIHarness.control()
        defer { h.close() }
        let agents = h.services.agents
        let id = try h.addAgent(name: "gpu-1")
        let other = try h.addAgent(name: "gpu-2")
        let events = h.subscribe(source: id)

        // Nothing to update: 400 before any store work; an unknown agent: false.
        let empty = ServicesTests.fromLoop { agents.update(idOrName: id, notes: nil, tags: nil, completion: $0) }
        #expect((empty.result.error as? HTTPError)?.message == "nothing to update: give 'notes' or 'tags'")
        #expect(try !ServicesTests.fromLoop { agents.update(idOrName: "ghost", notes: "n", tags: nil, completion: $0) }.get())

        // A heartbeat publishes agent_status only when the shown status changes.
        _ = try ServicesTests.fromLoop { agents.heartbeat(idOrName: id, AgentHeartbeat(), completion: $0) }.get()
        _ = try ServicesTests.fromLoop { agents.heartbeat(idOrName: id, AgentHeartbeat(), completion: $0) }.get()
        var busy = AgentHeartbeat()
        busy.status = "busy"
        _ = try ServicesTests.fromLoop { agents.heartbeat(idOrName: id, busy, completion: $0) }.get()
        #expect(events.frames.filter { $0.type == "agent_status" }.map { $0.data["status"]?.stringValue } == ["online", "busy"])

        // A report implying a test status moves the test (and publishes it) before answering.
        let test = try ServicesTests.fromLoop {
            h.services.quickTests.create(.init(agentIDOrName: id, modelPath: "m", engineName: "vllm"), completion: $0)
        }.get()
        let failed = AgentRequests.Report(
            commandID: test.commandID, testID: nil, document: nil, finished: true, testStatus: .failed, error: "OOM")
        let identity = try #require(try h.store.agents.identity(idOrName: id))
        let outcome = try ServicesTests.fromLoop {
            agents.report(agentIDOrName: id, failed, caller: .agent(identity), completion: $0)
        }.get()
        #expect(outcome.testID == test.id)
        let stored = try #require(try h.store.quickTests.get(id: test.id))
        #expect(stored.status == .failed && stored.error == "OOM")
        #expect(events.frames.last?.data["status"]?.stringValue == "failed")

        // Another agent's token cannot report on this agent's work (nothing stored or moved).
        let stranger = try #require(try h.store.agents.identity(idOrName: other))
        let scoped = AgentRequests.Report(commandID: nil, testID: test.id, document: nil, finished: true, testStatus: .completed)
        let refused = ServicesTests.fromLoop { agents.report(agentIDOrName: other, scoped, caller: .agent(stranger), completion: $0) }
        #expect(refused.result.error as? AgentStoreError == .unknownWork(field: "test_id", value: test.id))
        #expect(try h.store.quickTests.get(id: test.id)?.status == .failed)

        // Cleanup of an unknown agent fails as the store says (the route answers 404).
        let cleanup = ServicesTests.fromLoop { agents.cleanup(idOrName: "ghost", modelPath: nil, completion: $0) }
        #expect(cleanup.result.error as? AgentStoreError == .notFound)
    }

    @Test func installProvisioningRules() throws {
        let h = try APIHarness.control()
        defer { h.close() }
        let agents = h.services.agents
        let existing = try h.addAgent(name: "gpu-1")
        func provision(_ name: String?, admin: Bool, hash: String?) -> Result<Void, any Error> {
            ServicesTests.fromLoop {
                agents.provision(.init(name: name, port: 8090, isAdmin: admin), tokenHash: hash, completion: $0)
            }.result
        }
        // An existing agent's token is rotated only with the admin token.
        #expect((provision("gpu-1", admin: false, hash: "aa").error as? AgentsService.RotationNeedsAdmin)?.name == "gpu-1")
        #expect(try h.store.agents.identity(tokenHash: "aa") == nil)
        #expect(throws: Never.self) { try provision("gpu-1", admin: true, hash: "ab").get() }
        #expect(try h.store.agents.identity(tokenHash: "ab")?.id == existing)
        // A check only (HEAD) stores nothing.
        #expect(throws: Never.self) { try provision("gpu-2", admin: false, hash: nil).get() }
        #expect(try h.store.agents.identity(name: "gpu-2") == nil)
        #expect(throws: Never.self) { try provision("gpu-2", admin: false, hash: "ac").get() }
        #expect(try h.store.agents.identity(name: "gpu-2")?.status == .provisioned)
        // Nameless: a pending install token, no agent row.
        #expect(throws: Never.self) { try provision(nil, admin: false, hash: "ad").get() }
        #expect(try h.store.agents.installTokenIsPending(hash: "ad", createdAfter: ""))
        // A name that is another agent's id is refused.
        #expect((provision(existing, admin: true, hash: "ae").error as? HTTPError)?.status.code == 400)
    }

    /// Statuses kitt does not know (a KITT 1.x database, an agent's own word) are kept as
    /// `.other` and shown exactly as stored, and rules name them as they are.
    @Test func unknownStoredStatusesRoundTripUnchanged() throws {
        #expect(QuickTestStatus(rawValue: "queued") == .queued)
        #expect(QuickTestStatus(rawValue: "paused") == .other("paused"))
        #expect(QuickTestStatus(rawValue: "Paused").rawValue == "Paused")
        #expect(CampaignStatus.known.allSatisfy { CampaignStatus(rawValue: $0.rawValue) == $0 })
        #expect(CommandStatus("done") == .done && AgentStatus("") == .other(""))

        let h = try APIHarness.control()
        defer { h.close() }
        let agent = try h.addAgent(name: "gpu-1")
        let now = Timestamp.now()
        try h.store.database.write { conn in
            try conn.run(
                "INSERT INTO quick_tests (id, agent_id, model_path, engine_name, status, created_at) VALUES ('qt1', ?, '/m', 'vllm', 'paused', ?)",
                [.text(agent), .text(now)])
            try conn.run(
                "INSERT INTO web_campaigns (id, name, status, created_at, updated_at) VALUES ('c1', 'old', 'archived', ?, ?)",
                [.text(now), .text(now)])
            try conn.run("UPDATE agents SET status = 'maintenance', last_heartbeat = ? WHERE id = ?", [.text(now), .text(agent)])
        }
        #expect(try h.execute(.get, "/api/v1/quicktest/qt1").json?["status"]?.stringValue == "paused")
        #expect(try h.execute(.get, "/api/v1/quicktest/?status=paused").json?["total"]?.intValue == 1)
        #expect(try h.execute(.get, "/api/v1/campaigns/c1").json?["status"]?.stringValue == "archived")
        #expect(try h.execute(.get, "/api/v1/campaigns/?status=archived").json?["total"]?.intValue == 1)
        #expect(try h.execute(.get, "/api/v1/agents/gpu-1").json?["status"]?.stringValue == "maintenance")
        let edit = try h.execute(.put, "/api/v1/campaigns/c1/config", json: CampaignAPITests.config(models: [["name": "m"]], engines: [["name": "vllm"]]))
        #expect(edit.status == 400 && edit.json?["error"]?.stringValue == "campaign is archived; only a draft's config can be changed")
        // A reportable status still moves it; the unknown one is not rewritten by reads.
        #expect(try h.store.quickTests.get(id: "qt1")?.status == .other("paused"))
        #expect(try h.execute(.post, "/api/v1/quicktest/qt1/status", json: ["status": "completed"]).status == 200)
        #expect(try h.store.quickTests.get(id: "qt1")?.status == .completed)
    }
}

extension Result {
    fileprivate var error: Failure? {
        if case .failure(let error) = self { return error }
        return nil
    }
}
