import Dispatch
import KittBase
import KittJSON
import KittStore
import KittTestSupport
import Synchronization
import Testing

/// Through the repository protocols, on every available backend (SQLite, PostgreSQL).
@Suite struct AgentRepositoryTests {
    let farFuture = "9999-01-01T00:00:00Z"
    let farPast = "0000-01-01T00:00:00Z"

    func register(_ repo: any AgentStoring, _ name: String, token: String? = nil) throws -> RegisterOutcome {
        var r = AgentRegistration(name: name, hostname: "\(name).lab")
        r.gpuCount = 2
        r.capabilities = ["vllm", "ollama"]
        return try waitFor { repo.register(r, tokenAgentID: token, completion: $0) }
    }

    @Test(arguments: Backend.available)
    func registerCreatesThenUpdatesByNameKeepingID(backend: Backend) throws {
        let b = try backend.open()
        let first = try register(b.agents, "gpu-1")
        #expect(first.heartbeatIntervalSeconds == 30)
        let again = try register(b.agents, "gpu-1")
        #expect(again.agentID == first.agentID)
        let other = try register(b.agents, "gpu-2")
        #expect(other.agentID != first.agentID)
        let settings = try #require(try b.administration.settings(idOrName: first.agentID))
        #expect(settings.map(\.key) == AgentSettings.defaults.map(\.key))
        #expect(settings.first { $0.key == "auto_cleanup" }?.value == "true")
        let agent = try #require(try b.agents.get(idOrName: "gpu-1", offlineCutoff: farPast))
        #expect(agent.id == first.agentID)
        #expect(agent.capabilities == ["vllm", "ollama"])
        #expect(agent.status == .online)
        // `Agent` has no token field at all: the hash cannot leak through a read.
        #expect(try b.agents.list(limit: 10, offset: 0, offlineCutoff: farPast).total == 2)
    }

    @Test(arguments: Backend.available)
    func provisionedTokenIdentifiesAndMayTakeItsName(backend: Backend) throws {
        let b = try backend.open()
        let id = try b.administration.provisionToken(name: "provisional-x", port: 8090, tokenHash: tokenHash("tok"))
        #expect(try b.administration.identity(tokenHash: tokenHash("tok"))?.id == id)
        #expect(try b.administration.identity(tokenHash: tokenHash("nope")) == nil)
        let registered = try register(b.agents, "real-host", token: id)
        #expect(registered.agentID == id)
        #expect(try b.agents.identity(idOrName: "real-host")?.id == id)
        // Once registered, the token cannot take another name, nor another agent's.
        #expect(throws: AgentStoreError.forbidden) { try register(b.agents, "elsewhere", token: id) }
        _ = try register(b.agents, "victim")
        #expect(throws: AgentStoreError.forbidden) { try register(b.agents, "victim", token: id) }
        // Rotating keeps the id and replaces the hash.
        #expect(try b.administration.provisionToken(name: "real-host", port: 8090, tokenHash: tokenHash("new")) == id)
        #expect(try b.administration.identity(tokenHash: tokenHash("tok")) == nil)
        // Without the admin's say-so an existing name is never rotated (two racing fetches).
        #expect(throws: AgentStoreError.forbidden) {
            try b.administration.provisionToken(name: "real-host", port: 8090, tokenHash: tokenHash("x"), rotate: false)
        }
        #expect(try b.administration.identity(tokenHash: tokenHash("new"))?.id == id)
    }

    @Test(arguments: Backend.available)
    func installTokensBindOnceAndExpireWithUnregisteredAgents(backend: Backend) throws {
        let b = try backend.open()
        let (repo, admin) = (b.agents, b.administration)
        try admin.recordInstallToken(hash: tokenHash("install"), port: 8090)
        #expect(try admin.installTokenIsPending(hash: tokenHash("install"), createdAfter: "2000-01-01T00:00:00.000000Z"))
        #expect(try !admin.installTokenIsPending(hash: tokenHash("install"), createdAfter: "2999-01-01T00:00:00.000000Z"))
        #expect(try admin.unregisteredCount() == 1)
        let r = AgentRegistration(name: "host-1", hostname: "host-1")
        let outcome = try waitFor {
            repo.register(r, tokenAgentID: nil, installTokenHash: tokenHash("install"),
                installTokenCutoff: "2000-01-01T00:00:00.000000Z", completion: $0)
        }
        #expect(try admin.identity(tokenHash: tokenHash("install"))?.id == outcome.agentID)
        #expect(try admin.unregisteredCount() == 0)
        // Bound once: the same hash cannot create a second agent.
        #expect(throws: AgentStoreError.forbidden) {
            try waitFor {
                repo.register(AgentRegistration(name: "host-2", hostname: "h"), tokenAgentID: nil,
                    installTokenHash: tokenHash("install"), installTokenCutoff: "2000-01-01T00:00:00.000000Z", completion: $0)
            }
        }
        // Expiry: provisioned-only agents and old tokens go; registered agents stay.
        try admin.provisionToken(name: "ghost", port: 8090, tokenHash: tokenHash("ghost"))
        try admin.recordInstallToken(hash: tokenHash("old"), port: 8090)
        let removed = try admin.removeUnregistered(before: "2999-01-01T00:00:00.000000Z")
        #expect(removed.map(\.name) == ["ghost"])
        #expect(try admin.unregisteredCount() == 0)
        #expect(try repo.identity(idOrName: "host-1") != nil)
    }

    @Test(arguments: Backend.available)
    func heartbeatUpdatesAndDispatchesOneCommandOldestFirst(backend: Backend) throws {
        let b = try backend.open()
        let agent = try register(b.agents, "gpu-1")
        let first = try b.agents.queueCommand(agentID: agent.agentID, type: "cleanup_storage", payload: ["model_path": "/m"])
        let second = try b.agents.queueCommand(agentID: agent.agentID, type: "run_test", testID: "t1", payload: [:])
        var beat = AgentHeartbeat()
        beat.status = "busy"
        beat.gpuUtilizationPct = 55
        beat.engines = [AgentEngine(engine: "vllm", installed: true, running: false, version: "0.6")]
        let h1 = try waitFor { b.agents.heartbeat(idOrName: "gpu-1", beat, offlineCutoff: farPast, completion: $0) }
        #expect(h1.agentID == agent.agentID)
        #expect(h1.command?.id == first)
        #expect(h1.command?.payload["model_path"]?.stringValue == "/m")
        #expect(h1.statusChanged)
        let h2 = try waitFor { b.agents.heartbeat(idOrName: agent.agentID, AgentHeartbeat(), offlineCutoff: farPast, completion: $0) }
        #expect(h2.command?.id == second)
        #expect(h2.command?.testID == "t1")
        let h3 = try waitFor { b.agents.heartbeat(idOrName: agent.agentID, AgentHeartbeat(), offlineCutoff: farPast, completion: $0) }
        #expect(h3.command == nil)
        #expect(try b.quickTests.commands(agentID: agent.agentID).first { $0.id == first }?.status == "dispatched")

        beat.engines = [AgentEngine(engine: "vllm", installed: true, running: true, version: "0.7")]
        _ = try waitFor { b.agents.heartbeat(idOrName: agent.agentID, beat, offlineCutoff: farPast, completion: $0) }
        let shown = try #require(try b.agents.get(idOrName: agent.agentID, offlineCutoff: farPast))
        #expect(shown.gpuUtilizationPct == 55)
        #expect(shown.engines?.count == 1)
        #expect(shown.engines?.first?.engine.version == "0.7")
        #expect(shown.status == .busy)

        #expect(throws: AgentStoreError.notFound) {
            try waitFor { b.agents.heartbeat(idOrName: "nobody", AgentHeartbeat(), offlineCutoff: farPast, completion: $0) }
        }
    }

    @Test(arguments: Backend.available)
    func concurrentHeartbeatsNeverShareACommand(backend: Backend) throws {
        let b = try backend.open()
        let agent = try register(b.agents, "gpu-1")
        var queued: [String] = []
        for _ in 0..<5 { queued.append(try b.agents.queueCommand(agentID: agent.agentID, type: "run_test", payload: [:])) }
        let handed = Mutex<[String]>([])
        let group = DispatchGroup()
        let repo = b.agents
        for _ in 0..<40 {
            group.enter()
            repo.heartbeat(idOrName: "gpu-1", AgentHeartbeat(), offlineCutoff: farPast) { result in
                if case .success(let outcome) = result, let command = outcome.command {
                    handed.withLock { $0.append(command.id) }
                }
                group.leave()
            }
        }
        #expect(group.wait(timeout: .now() + 20) == .success)
        let got = handed.withLock { $0 }
        #expect(got.count == 5)
        #expect(Set(got) == Set(queued))
    }

    @Test(arguments: Backend.available)
    func reportStoresResultLinksQuickTestAndFinishesCommand(backend: Backend) throws {
        let b = try backend.open()
        let agent = try register(b.agents, "gpu-1")
        let test = try b.quickTests.create(NewQuickTest(agentID: agent.agentID, agentName: "gpu-1", modelPath: "/m", engineName: "vllm"))
        let command = try #require(test.commandID)
        let document = try ResultDocument(bytes: resultJSON())
        let outcome = try waitFor {
            b.agents.report(agentIDOrName: agent.agentID, document: document, commandID: command, testID: nil, finished: true, completion: $0)
        }
        #expect(outcome.testID == test.id)
        let id = try #require(outcome.resultID)
        #expect(try b.results.get(id: id) != nil)
        let linked = try b.row("SELECT result_id FROM quick_tests WHERE id = ?", [.text(test.id)])?.string(0)
        #expect(linked == id)
        #expect(try b.quickTests.commands(agentID: agent.agentID).map(\.status) == ["done"])

        let statusOnly = try waitFor {
            b.agents.report(agentIDOrName: "gpu-1", document: nil, commandID: nil, testID: nil, finished: false, completion: $0)
        }
        #expect(statusOnly == ReportOutcome(resultID: nil, testID: nil))
        #expect(throws: AgentStoreError.notFound) {
            try waitFor { b.agents.report(agentIDOrName: "ghost", document: document, commandID: nil, testID: nil, finished: false, completion: $0) }
        }
    }

    /// SQLite: reports stored one by one share a random id prefix for
    /// `StoreID.Rotating.idsPerPrefix` ids in a row (a group commit's reports land on a page
    /// or two of the id index), and the rest of each id stays random.
    @Test func reportsShareARotatingIDPrefix() throws {
        let t = try TempStore()
        let agent = try register(t.store.agents, "gpu-1")
        let count = 3 * StoreID.Rotating.idsPerPrefix
        let ids = try (0..<count).map { n in
            let document = try ResultDocument(bytes: resultJSON(timestamp: "2026-02-01T00:00:\(n)Z"))
            let outcome = try waitFor {
                t.store.agents.report(
                    agentIDOrName: agent.agentID, document: document, commandID: nil, testID: nil, finished: false,
                    completion: $0)
            }
            return try #require(outcome.resultID)
        }
        #expect(ids.allSatisfy(StoreID.isValid))
        #expect(Set(ids).count == count)
        #expect(Set(ids.map { $0.dropFirst(4) }).count == count)
        // Consecutive ids change prefix at most once per `idsPerPrefix` (fully random ids
        // would change it at nearly every id); three rotations draw more than one prefix
        // (all equal: 2^-32).
        let changes = zip(ids, ids.dropFirst()).filter { $0.prefix(4) != $1.prefix(4) }.count
        #expect(changes <= 3)
        #expect(Set(ids.map { $0.prefix(4) }).count > 1)
    }

    @Test(arguments: Backend.available)
    func offlineIsComputedAndMarked(backend: Backend) throws {
        let b = try backend.open()
        let agent = try register(b.agents, "gpu-1")
        // A cutoff in the future makes every heartbeat "too old".
        let shown = try b.agents.get(idOrName: agent.agentID, offlineCutoff: farFuture)
        #expect(shown?.status == .offline)
        let marked = try b.administration.markOffline(cutoff: farFuture)
        #expect(marked.map(\.id) == [agent.agentID])
        #expect(try b.administration.markOffline(cutoff: farFuture).isEmpty)  // only once
        #expect(try b.agents.identity(idOrName: agent.agentID)?.status == "offline")
        let beat = try waitFor { b.agents.heartbeat(idOrName: agent.agentID, AgentHeartbeat(), offlineCutoff: farPast, completion: $0) }
        #expect(beat.status == "online")
    }

    @Test(arguments: Backend.available)
    func patchSettingsAndDeleteCascadeButQuickTestsStay(backend: Backend) throws {
        let b = try backend.open()
        let agent = try register(b.agents, "gpu-1")
        #expect(try b.administration.update(idOrName: agent.agentID, notes: "rack 4", tags: ["a", "b"]))
        #expect(try !b.administration.update(idOrName: "ghost", notes: "x", tags: nil))
        #expect(try b.administration.updateSettings(idOrName: agent.agentID, [("heartbeat_interval_s", "60")]))
        #expect(try b.administration.settings(idOrName: agent.agentID)?.first { $0.key == "heartbeat_interval_s" }?.value == "60")
        let edited = try b.agents.get(idOrName: agent.agentID, offlineCutoff: farPast)
        #expect(edited?.notes == "rack 4")
        #expect(edited?.tags == ["a", "b"])

        var beat = AgentHeartbeat()
        beat.engines = [AgentEngine(engine: "vllm", installed: true)]
        _ = try waitFor { b.agents.heartbeat(idOrName: agent.agentID, beat, offlineCutoff: farPast, completion: $0) }
        #expect(try b.row("SELECT COUNT(*) FROM agent_engines")?.int(0) == 1)
        _ = try b.agents.queueCommand(agentID: agent.agentID, type: "cleanup_storage", payload: [:])
        _ = try b.quickTests.create(NewQuickTest(agentID: agent.agentID, agentName: "gpu-1", modelPath: "/m", engineName: "vllm"))
        #expect(try b.agents.delete(idOrName: agent.agentID))
        #expect(try !b.agents.delete(idOrName: agent.agentID))
        let counts = try ["agent_settings", "agent_engines", "agent_commands", "quick_tests"].map {
            try b.row("SELECT COUNT(*) FROM \($0)")?.int(0) ?? -1
        }
        #expect(counts == [0, 0, 0, 1])
    }
}

/// The store keeps whatever hash it is given (KittAPI hashes tokens with SHA-256); a distinct
/// stand-in per token is all these tests need.
private func tokenHash(_ token: String) -> String { Hex.lowercase(Array(token.utf8)) }
