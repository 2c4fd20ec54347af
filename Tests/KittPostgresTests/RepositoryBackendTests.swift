import KittJSON
import KittStore
import KittTestSupport
import KittStorePostgres
import Testing

/// The same repository behaviour on SQLite and PostgreSQL (issue 15), through the protocols.
@Suite struct RepositoryBackendTests {
    @Test(arguments: Backend.available)
    func resultsInsertGetListAggregateDelete(backend: Backend) throws {
        let b = try backend.open()
        let document = try resultDocument()
        let id = try b.results.insert(document)
        #expect(StoreID.isValid(id))
        // Served bytes: {"id":"...", + the document after its "{", byte for byte.
        let item = try #require(try b.results.get(id: id))
        #expect(item.bytes == Array(#"{"id":"\#(id)","#.utf8) + document.bytes.dropFirst())
        #expect(try b.results.get(id: "0000000000000000") == nil)

        let ids = try b.results.insertAll([
            try resultDocument(model: "m2", timestamp: "2026-01-03T00:00:00Z", tps: 10),
            try resultDocument(model: "m2", engine: "sglang", timestamp: "2026-01-02T00:00:00Z", tps: 30),
            try resultDocument(model: "m3", timestamp: "2026-01-02T00:00:00Z", tps: 50),
        ])
        #expect(try b.results.get(ids: [ids[2], "missing", ids[0], ids[2]]).count == 3)

        func listed(_ filter: ResultFilter, limit: Int = 10, offset: Int = 0) throws -> (Int, [String]) {
            let page = try b.results.list(filter, limit: limit, offset: offset)
            return (page.total, try page.items.map { try JSON(parsing: $0.bytes)["id"]?.stringValue ?? "" })
        }
        // Newest timestamp first, ties by id.
        let tied = [ids[1], ids[2]].sorted()
        #expect(try listed(ResultFilter()) == (4, [ids[0]] + tied + [id]))
        #expect(try listed(ResultFilter(), limit: 2, offset: 1) == (4, tied))
        #expect(try listed(ResultFilter(), limit: 2, offset: 9) == (4, []))
        #expect(try listed(ResultFilter(model: "m2")) == (2, [ids[0], ids[1]]))
        #expect(try listed(ResultFilter(model: "m2", engine: "vllm")) == (1, [ids[0]]))
        #expect(try listed(ResultFilter(suiteName: "nope")) == (0, []))

        let aggregate = try b.results.aggregate(groupBy: .model, metrics: ["avg_tps", "missing", "avg_tps"])
        #expect(aggregate.metrics == ["avg_tps", "missing"])
        #expect(aggregate.rows.map(\.value) == ["llama-3-8b", "m2", "m3"])
        #expect(aggregate.rows.map(\.count) == [1, 2, 1])
        // avg_tps rows per run: tps and 3 × tps → m2: (10 + 30 + 30 + 90) / 4.
        #expect(aggregate.rows.map { $0.averages[0] } == [200, 40, 100])
        #expect(aggregate.rows.allSatisfy { $0.averages[1] == nil })
        let byEngine = try b.results.aggregate(groupBy: .engine, metrics: ["p50_latency_ms"])
        #expect(byEngine.rows.map(\.value) == ["sglang", "vllm"])
        #expect(byEngine.rows.map { $0.averages[0] } == [20, 20])

        #expect(try b.results.delete(id: ids[0]))
        #expect(try !b.results.delete(id: ids[0]))
        #expect(try listed(ResultFilter(model: "m2")) == (1, [ids[1]]))
        #expect(try b.results.aggregate(groupBy: .model, metrics: ["avg_tps"]).rows.map { $0.averages[0] } == [200, 60, 100])
    }

    @Test(arguments: Backend.available)
    func registrationAndHeartbeatsHandOutCommandsOldestFirstOnce(backend: Backend) throws {
        let b = try backend.open()
        var registration = AgentRegistration(name: "gpu-01", hostname: "gpu-01.lab")
        registration.gpuCount = 8
        registration.capabilities = ["vllm"]
        let registered = try waitFor { b.agents.register(registration, tokenAgentID: nil, installTokenHash: nil, installTokenCutoff: "", completion: $0) }
        #expect(registered.heartbeatIntervalSeconds == 30)
        // Registering again under the same name updates the same agent.
        let again = try waitFor { b.agents.register(registration, tokenAgentID: nil, installTokenHash: nil, installTokenCutoff: "", completion: $0) }
        #expect(again.agentID == registered.agentID)
        #expect(try b.agents.identity(idOrName: "gpu-01")?.id == registered.agentID)

        let first = try b.agents.queueCommand(agentID: registered.agentID, type: "cleanup_storage", testID: nil, payload: .object(JSONObject([("n", .int(1))])))
        let second = try b.agents.queueCommand(agentID: registered.agentID, type: "cleanup_storage", testID: nil, payload: .object(JSONObject()))
        #expect(throws: AgentStoreError.notFound) {
            try b.agents.queueCommand(agentID: "nobody", type: "cleanup_storage", testID: nil, payload: .null)
        }
        var beat = AgentHeartbeat()
        beat.gpuUtilizationPct = 55
        beat.engines = [AgentEngine(engine: "vllm", installed: true, running: false, version: "0.6")]
        func heartbeat() throws -> HeartbeatOutcome {
            try waitFor { b.agents.heartbeat(idOrName: "gpu-01", beat, offlineCutoff: "", completion: $0) }
        }
        let h1 = try heartbeat()
        #expect(h1.command?.id == first)
        #expect(h1.command?.payload["n"]?.intValue == 1)
        #expect(h1.settings.count == AgentSettings.defaults.count)
        #expect(try heartbeat().command?.id == second)
        #expect(try heartbeat().command == nil)
        #expect(throws: AgentStoreError.notFound) {
            try waitFor { b.agents.heartbeat(idOrName: "nobody", AgentHeartbeat(), offlineCutoff: "", completion: $0) }
        }

        let shown = try #require(try b.agents.get(idOrName: registered.agentID, offlineCutoff: ""))
        #expect(shown.name == "gpu-01")
        #expect(shown.hostname == "gpu-01.lab")
        #expect(shown.gpuCount == 8)
        #expect(shown.gpuUtilizationPct == 55)
        #expect(shown.capabilities == [.string("vllm")])
        #expect(shown.engines?.map(\.engine) == [AgentEngine(engine: "vllm", installed: true, running: false, version: "0.6")])
        #expect(shown.status == .online)
        // A cutoff after the last heartbeat shows the agent offline.
        #expect(try b.agents.get(idOrName: "gpu-01", offlineCutoff: "9999")?.status == .offline)
        let listed = try b.agents.list(limit: 10, offset: 0, offlineCutoff: "")
        #expect(listed.total == 1)
        #expect(listed.items.first?.id == registered.agentID)
        #expect(listed.items.first?.engines == nil)

        #expect(try b.agents.delete(idOrName: "gpu-01"))
        #expect(try b.agents.identity(idOrName: registered.agentID) == nil)
        #expect(try !b.agents.delete(idOrName: "gpu-01"))
    }

    @Test(arguments: Backend.available)
    func webSessionsStoreReplaceExpireAndDelete(backend: Backend) throws {
        let b = try backend.open()
        let now = 1_000_000.5
        try waitFor { b.sessions.insertWebSession(WebSessionRecord(idHash: "h1", csrfToken: "c1", expiresAt: now + 60), now: now, completion: $0) }
        try waitFor { b.sessions.insertWebSession(WebSessionRecord(idHash: "h2", csrfToken: "c2", expiresAt: now + 1), now: now, completion: $0) }
        // Replacing keeps one row per id hash.
        try waitFor { b.sessions.insertWebSession(WebSessionRecord(idHash: "h1", csrfToken: "c1b", expiresAt: now + 90), now: now, completion: $0) }
        #expect(try b.sessions.liveWebSessions(now: now).sorted { $0.idHash < $1.idHash } == [
            WebSessionRecord(idHash: "h1", csrfToken: "c1b", expiresAt: now + 90),
            WebSessionRecord(idHash: "h2", csrfToken: "c2", expiresAt: now + 1),
        ])
        #expect(try b.sessions.liveWebSessions(now: now + 30).map(\.idHash) == ["h1"])
        try waitFor { b.sessions.deleteWebSession(idHash: "h1", completion: $0) }
        #expect(try b.sessions.liveWebSessions(now: now).map(\.idHash) == ["h2"])
    }

    @Test(arguments: Backend.available)
    func engineProfilesCreateListUpdateDeleteWithUniqueNames(backend: Backend) throws {
        let b = try backend.open()
        var fields = EngineProfileFields()
        fields.name = "vllm-fast"
        fields.engine = "vllm"
        fields.buildConfig = #"{"tp": 2}"#
        let fast = try b.profiles.create(fields)
        #expect(fast.mode == "docker")
        #expect(fast.buildConfig == #"{"tp": 2}"#)
        fields.name = "Vllm-big"
        let big = try b.profiles.create(fields)
        fields.name = "sg"
        fields.engine = "sglang"
        _ = try b.profiles.create(fields)
        // Bytewise order ("V" before "s" before "v"), as SQLite's.
        #expect(try b.profiles.list(engine: nil).map(\.name) == ["Vllm-big", "sg", "vllm-fast"])
        #expect(try b.profiles.list(engine: "vllm").map(\.name) == ["Vllm-big", "vllm-fast"])
        #expect(throws: EngineProfileError.nameTaken("sg")) { try b.profiles.create(fields) }
        var missing = EngineProfileFields()
        missing.name = "x"
        #expect(throws: EngineProfileError.missing("engine")) { try b.profiles.create(missing) }

        var rename = EngineProfileFields()
        rename.name = "sg"
        #expect(throws: EngineProfileError.nameTaken("sg")) { try b.profiles.update(id: big.id, rename) }
        rename.name = "vllm-big"
        rename.mode = "native"
        let updated = try #require(try b.profiles.update(id: big.id, rename))
        #expect(updated.name == "vllm-big")
        #expect(updated.mode == "native")
        #expect(updated.buildConfig == big.buildConfig)
        #expect(try b.profiles.update(id: "0000000000000000", rename) == nil)
        #expect(try b.profiles.get(id: fast.id) == fast)
        #expect(try b.profiles.delete(id: fast.id))
        #expect(try !b.profiles.delete(id: fast.id))
        #expect(try b.profiles.get(id: fast.id) == nil)
    }

    @Test(arguments: Backend.available)
    func quickTestsQueueTheirCommandAndChangeStatusOnce(backend: Backend) throws {
        let b = try backend.open()
        let agent = try waitFor {
            b.agents.register(AgentRegistration(name: "gpu-q", hostname: "h"), tokenAgentID: nil, installTokenHash: nil, installTokenCutoff: "", completion: $0)
        }
        var new = NewQuickTest(agentID: agent.agentID, agentName: "gpu-q", modelPath: "/m/llama", engineName: "vllm")
        new.profileID = "p1"
        let test = try b.quickTests.create(new)
        #expect(test.status == .queued)
        let second = try b.quickTests.create(NewQuickTest(agentID: agent.agentID, agentName: "gpu-q", modelPath: "/m/b", engineName: "vllm"))
        #expect(try b.quickTests.get(id: test.id) == test)
        #expect(try b.quickTests.find(commandID: test.commandID ?? "") == test)
        let listed = try b.quickTests.list(status: .queued, agentName: "gpu-q", campaignID: nil, limit: 1, offset: 0)
        #expect(listed.total == 2)
        #expect(listed.items.count == 1)

        // The heartbeat hands out the test's command with its payload and marks the test dispatched.
        let beat = try waitFor { b.agents.heartbeat(idOrName: "gpu-q", AgentHeartbeat(), offlineCutoff: "", completion: $0) }
        #expect(beat.command?.id == test.commandID)
        #expect(beat.command?.type == "run_test")
        #expect(beat.command?.payload["model_path"]?.stringValue == "/m/llama")
        #expect(beat.command?.payload["profile_id"]?.stringValue == "p1")
        #expect(beat.dispatchedTest?.status == .dispatched)

        let running = try #require(try b.quickTests.transition(id: test.id, to: .running, error: nil, agentID: nil))
        #expect(running.changed)
        #expect(running.test.startedAt != nil)
        #expect(try b.quickTests.transition(id: test.id, to: .running, error: nil, agentID: nil)?.changed == false)
        #expect(try b.quickTests.transition(id: test.id, to: .failed, error: "x", agentID: "someone-else") == nil)
        let failed = try #require(try b.quickTests.transition(id: test.id, to: .failed, error: "oom", agentID: agent.agentID))
        #expect(failed.changed && failed.test.error == "oom" && failed.test.completedAt != nil)
        // Finished never goes back to running.
        #expect(try b.quickTests.transition(id: test.id, to: .running, error: nil, agentID: nil)?.changed == false)
        #expect(try b.quickTests.unfinished(startedBefore: "9999").map(\.id) == [second.id])
        // Cancelling a test whose command was never handed out retires the command.
        #expect(try b.quickTests.transition(id: second.id, to: .cancelled, error: nil, agentID: nil)?.changed == true)
        #expect(try waitFor { b.agents.heartbeat(idOrName: "gpu-q", AgentHeartbeat(), offlineCutoff: "", completion: $0) }.command == nil)
        #expect(try b.quickTests.transition(id: "0000000000000000", to: .failed, error: nil, agentID: nil) == nil)
    }

    @Test(arguments: Backend.available)
    func reportsStoreTheResultLinkTheTestAndFinishTheCommandOnce(backend: Backend) throws {
        let b = try backend.open()
        func register(_ name: String) throws -> String {
            try waitFor {
                b.agents.register(AgentRegistration(name: name, hostname: "h"), tokenAgentID: nil, installTokenHash: nil, installTokenCutoff: "", completion: $0)
            }.agentID
        }
        let agent = try register("gpu-r")
        let other = try register("gpu-s")
        let test = try b.quickTests.create(NewQuickTest(agentID: agent, agentName: "gpu-r", modelPath: "/m", engineName: "vllm"))
        let commandID = try #require(test.commandID)
        func report(_ who: String, document: ResultDocument?, command: String?, test: String?, scoped: Bool = true) throws -> ReportOutcome {
            try waitFor {
                b.agents.report(agentIDOrName: who, document: document, commandID: command, testID: test, finished: true, failed: false, scoped: scoped, completion: $0)
            }
        }
        // Another agent's token cannot report on this test: nothing is written.
        #expect(throws: AgentStoreError.unknownWork(field: "test_id", value: test.id)) {
            try report("gpu-s", document: try resultDocument(), command: nil, test: test.id)
        }
        #expect(try b.results.list(ResultFilter(), limit: 10, offset: 0).total == 0)

        let outcome = try report("gpu-r", document: try resultDocument(model: "reported"), command: commandID, test: nil)
        let resultID = try #require(outcome.resultID)
        #expect(outcome.testID == test.id)
        #expect(outcome.finishedCommand == nil)  // a test's command: the test's status change is the event
        #expect(try b.quickTests.get(id: test.id)?.resultID == resultID)
        #expect(try JSON(parsing: #require(try b.results.get(id: resultID)).bytes)["model"]?.stringValue == "reported")
        // The command is finished: no heartbeat hands it out any more.
        #expect(try waitFor { b.agents.heartbeat(idOrName: "gpu-r", AgentHeartbeat(), offlineCutoff: "", completion: $0) }.command == nil)

        // A command without a test is reported finished once.
        let cleanup = try b.agents.queueCommand(agentID: other, type: "cleanup_storage", testID: nil, payload: .object(JSONObject()))
        let first = try report("gpu-s", document: nil, command: cleanup, test: nil)
        #expect(first.finishedCommand == FinishedCommand(id: cleanup, type: "cleanup_storage", agentID: other, status: .done))
        #expect(try report("gpu-s", document: nil, command: cleanup, test: nil).finishedCommand == nil)
        #expect(throws: AgentStoreError.notFound) { try report("nobody", document: nil, command: nil, test: nil, scoped: false) }
    }

    @Test(arguments: Backend.available)
    func campaignsRunTheirLifecycle(backend: Backend) throws {
        let b = try backend.open()
        let agent = try waitFor {
            b.agents.register(AgentRegistration(name: "gpu-c", hostname: "h"), tokenAgentID: nil, installTokenHash: nil, installTokenCutoff: "", completion: $0)
        }.agentID
        let draft = try b.campaigns.create(name: "sweep", description: "d", agentID: agent, config: #"{"models": ["a"]}"#)
        #expect(draft.status == .draft)
        #expect(try b.campaigns.updateConfig(id: draft.id, config: #"{"models": ["a", "b"]}"#, agentID: nil) == .updated)
        #expect(try b.campaigns.updateConfig(id: "0000000000000000", config: "{}", agentID: nil) == .notFound)
        #expect(try b.campaigns.markRunning(id: draft.id, totalRuns: 2, line: nil) == nil)  // not queued yet
        #expect(try b.campaigns.markQueued(id: draft.id)?.changed == true)
        #expect(try b.campaigns.markQueued(id: draft.id)?.changed == false)
        #expect(try b.campaigns.updateConfig(id: draft.id, config: "{}", agentID: nil) == .notDraft(.queued))
        #expect(try b.campaigns.active().map(\.id) == [draft.id])
        let running = try #require(try b.campaigns.markRunning(id: draft.id, totalRuns: 2, line: "start"))
        #expect(running.status == .running && running.totalRuns == 2 && running.startedAt != nil)

        let run = NewQuickTest(agentID: agent, agentName: "gpu-c", modelPath: "/m/a", engineName: "vllm")
        let first = try #require(try b.campaigns.queueRun(campaignID: draft.id, test: run, line: "run 1"))
        #expect(first.campaignID == draft.id)
        #expect(try b.campaigns.queueRun(campaignID: draft.id, test: run, line: "again") == nil)  // one in flight
        #expect(try b.campaigns.finishRun(campaignID: draft.id, testID: "other", succeeded: true, line: "x") == nil)
        let afterFirst = try #require(try b.campaigns.finishRun(campaignID: draft.id, testID: first.id, succeeded: true, line: "done 1"))
        #expect(afterFirst.succeeded == 1 && afterFirst.nextIndex == 1 && afterFirst.currentTestID == nil)
        #expect(try b.campaigns.skipRun(campaignID: draft.id, line: "skip 2")?.failed == 1)

        // Cancel with a queued run in flight: the test (and its command) is cancelled too.
        let second = try #require(try b.campaigns.queueRun(campaignID: draft.id, test: run, line: "run 3"))
        guard case .cancelled(let stop) = try b.campaigns.cancel(id: draft.id, line: "cancelled") else {
            Issue.record("not cancelled")
            return
        }
        #expect(stop.campaign.status == .cancelled)
        #expect(stop.cancelledTest?.id == second.id && stop.cancelledTest?.status == .cancelled)
        guard case .notActive(.cancelled) = try b.campaigns.cancel(id: draft.id, line: "again") else {
            Issue.record("cancelled twice")
            return
        }
        #expect(try b.campaigns.finish(id: draft.id, status: .completed, error: nil, line: "late") == nil)
        #expect(try b.campaigns.logs(campaignID: draft.id)?.map(\.line) == ["start", "run 1", "done 1", "skip 2", "run 3", "cancelled"])
        #expect(try b.campaigns.list(status: .cancelled, limit: 10, offset: 0).total == 1)
        #expect(try b.campaigns.list(status: .running, limit: 10, offset: 0).total == 0)
        #expect(try b.campaigns.delete(id: draft.id)?.campaign.id == draft.id)
        #expect(try b.campaigns.get(id: draft.id) == nil)
        #expect(try b.campaigns.logs(campaignID: draft.id) == nil)
    }

    @Test(arguments: Backend.available)
    func tokensSettingsAndSweeps(backend: Backend) throws {
        let b = try backend.open()
        let admin = b.administration
        let id = try admin.provisionToken(name: "gpu-p", port: 9000, tokenHash: "AB12", rotate: true)
        #expect(try admin.identity(tokenHash: "ab12")?.id == id)
        #expect(try admin.identity(name: "gpu-p")?.status == .provisioned)
        #expect(throws: AgentStoreError.forbidden) { try admin.provisionToken(name: "gpu-p", port: 9000, tokenHash: "x", rotate: false) }
        #expect(try admin.provisionToken(name: "gpu-p", port: 9000, tokenHash: "cd34", rotate: true) == id)
        #expect(try admin.identity(tokenHash: "ab12") == nil)
        #expect(throws: AgentStoreError.nameIsAnID) { try admin.provisionToken(name: id, port: 1, tokenHash: "y", rotate: true) }
        let rotated = try waitFor { admin.rotateToken(idOrName: "gpu-p", tokenHash: "ef56", completion: $0) }
        #expect(rotated?.id == id)
        #expect(try admin.identity(tokenHash: "EF56")?.id == id)

        try admin.recordInstallToken(hash: "inst1", port: 8090)
        #expect(try admin.installTokenIsPending(hash: "INST1", createdAfter: "2000"))
        #expect(try !admin.installTokenIsPending(hash: "inst1", createdAfter: "9999"))
        #expect(try admin.unregisteredCount() == 2)

        #expect(try admin.settings(idOrName: "gpu-p")?.first { $0.key == "heartbeat_interval_s" }?.value == "30")
        #expect(try admin.updateSettings(idOrName: "gpu-p", [("heartbeat_interval_s", "10")]))
        #expect(try admin.settings(idOrName: id)?.first { $0.key == "heartbeat_interval_s" }?.value == "10")
        #expect(try admin.settings(idOrName: "nobody") == nil)
        #expect(try admin.update(idOrName: "gpu-p", notes: "rack 4", tags: ["a"]))
        #expect(try b.agents.get(idOrName: id, offlineCutoff: "")?.notes == "rack 4")

        // An online agent whose heartbeat is older than the cutoff is swept, once.
        _ = try waitFor { b.agents.register(AgentRegistration(name: "gpu-o", hostname: "h"), tokenAgentID: nil, installTokenHash: nil, installTokenCutoff: "", completion: $0) }
        var beat = AgentHeartbeat()
        beat.engines = [AgentEngine(engine: "sglang", installed: true)]
        _ = try waitFor { b.agents.heartbeat(idOrName: "gpu-o", beat, offlineCutoff: "", completion: $0) }
        #expect(try admin.reportedEngines().map(\.engine.engine) == ["sglang"])
        #expect(try admin.markOffline(cutoff: "9999").map(\.name) == ["gpu-o"])
        #expect(try admin.markOffline(cutoff: "9999").isEmpty)

        // The never-registered agent and the install token go at the cutoff.
        #expect(try admin.removeUnregistered(before: "9999").map(\.name) == ["gpu-p"])
        #expect(try admin.unregisteredCount() == 0)
    }

    @Test(arguments: Backend.available)
    func quickTestLogsKeepTheNewestWithinLimitsAndCommandsAndSummaries(backend: Backend) throws {
        let b = try backend.open()
        var registration = AgentRegistration(name: "gpu-l", hostname: "h")
        registration.cpuArch = "arm64"
        let agent = try waitFor { b.agents.register(registration, tokenAgentID: nil, installTokenHash: nil, installTokenCutoff: "", completion: $0) }.agentID
        let test = try b.quickTests.create(NewQuickTest(agentID: agent, agentName: "gpu-l", modelPath: "/m", engineName: "vllm"))
        let limit = QuickTestRepository.LogLimit(lines: 3, bytes: 1000)
        for n in 1...5 {
            let owner = try waitFor { b.quickTests.appendLogAsync(testID: test.id, line: "line \(n)", agentID: nil, limit: limit, completion: $0) }
            #expect(owner == agent)
        }
        #expect(try b.quickTests.logs(testID: test.id)?.map(\.line) == ["line 3", "line 4", "line 5"])
        // By bytes: a long line pushes out everything older.
        let long = String(repeating: "x", count: 990)
        _ = try waitFor { b.quickTests.appendLogAsync(testID: test.id, line: long, agentID: nil, limit: limit, completion: $0) }
        #expect(try b.quickTests.logs(testID: test.id)?.map(\.line) == ["line 5", long])
        #expect(try waitFor { b.quickTests.appendLogAsync(testID: test.id, line: "x", agentID: "other", limit: limit, completion: $0) } == nil)
        #expect(try waitFor { b.quickTests.appendLogAsync(testID: "missing", line: "x", agentID: nil, limit: limit, completion: $0) } == nil)
        #expect(try b.quickTests.logs(testID: "missing") == nil)

        #expect(try b.quickTests.commands(agentID: agent, status: nil).map(\.id) == [test.commandID])
        #expect(try b.quickTests.commands(agentID: agent, status: .done).isEmpty)
        let summary = try #require(try b.quickTests.agent(idOrName: "gpu-l"))
        #expect(summary.id == agent && summary.cpuArch == "arm64" && summary.tokenHash == nil)
        #expect(try b.quickTests.agent(idOrName: agent)?.name == "gpu-l")
        #expect(try b.quickTests.agents().map(\.id) == [agent])
    }

    @Test(arguments: Backend.available)
    func insertNewSkipsRunsStoredAlready(backend: Backend) throws {
        let b = try backend.open()
        let a = try resultDocument(model: "a")
        let c = try resultDocument(model: "c")
        #expect(try !b.results.contains(a))
        let first = try b.results.insertNew([a, a])
        #expect(first[0] != nil && first[1] == nil)
        #expect(try b.results.contains(a))
        let second = try b.results.insertNew([c, a])
        #expect(second[0] != nil && second[1] == nil)
        // Same columns, other bytes: a different run.
        #expect(try !b.results.contains(try resultDocument(model: "a", tps: 1)))
        #expect(try b.results.list(ResultFilter(), limit: 10, offset: 0).total == 2)
    }
}
