import Foundation
import KittJSON
import KittSQLite
import KittStore
import KittTestSupport
import Testing

/// A SQLite store with some of everything kitt keeps, written through the repositories:
/// results over several models, engines and suites (more than one list chunk of 1,024, with
/// tied timestamps and deleted runs), agents with settings, engines, notes, tokens and
/// queued commands, an install token, quick tests with logs, a campaign with its log,
/// engine profiles and web sessions.
struct FullStore {
    let directory: URL
    let store: Store
    /// Every stored result id (deleted ones excluded).
    var resultIDs: [String] = []
    var agentIDs: [String] = []
    var quickTestIDs: [String] = []
    var campaignIDs: [String] = []

    static let models = ["m0", "m1", "m2"]
    static let engines = ["vllm", "sglang"]
    static let suites = ["standard", "quick"]

    static func open(_ path: URL) throws -> Store { try Store(path: path.path, readerCount: 2) }

    /// A temp directory holding `kitt.db`.
    init(results count: Int = 2_100) throws {
        directory = FileManager.default.temporaryDirectory.appendingPathComponent("kitt-full-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
        store = try FullStore.open(directory.appendingPathComponent("kitt.db"))
        try addResults(count)
        try addAgentsAndWork()
    }

    func remove() {
        store.close()
        try? FileManager.default.removeItem(at: directory)
    }

    private mutating func addResults(_ count: Int) throws {
        let results: any ResultsStoring = store.results
        var documents: [ResultDocument] = []
        for i in 0..<count {
            // Three runs per second (ties broken by id); metrics in halves, so every sum is exact.
            let second = 1_000 + i / 3
            documents.append(
                try resultDocument(
                    model: FullStore.models[i % 3], engine: FullStore.engines[i % 2], suite: FullStore.suites[(i / 7) % 2],
                    timestamp: "2026-01-0\(1 + second / 86_400)T\(clock(second % 86_400))Z", tps: Double(i % 50) + 0.5))
            if documents.count == 300 {
                resultIDs += try results.insertAll(documents)
                documents = []
            }
        }
        if !documents.isEmpty { resultIDs += try results.insertAll(documents) }
        // Gaps in the run keys, and summaries that went down as well as up.
        for index in [5, 700, 1_500] where index < resultIDs.count {
            _ = try results.delete(id: resultIDs[index])
        }
        resultIDs = resultIDs.enumerated().filter { ![5, 700, 1_500].contains($0.offset) }.map(\.element)
    }

    private func clock(_ seconds: Int) -> String {
        func two(_ n: Int) -> String { n < 10 ? "0\(n)" : "\(n)" }
        return "\(two(seconds / 3600)):\(two(seconds / 60 % 60)):\(two(seconds % 60))"
    }

    private mutating func addAgentsAndWork() throws {
        let agents: any AgentStoring = store.agents
        let admin: any AgentAdministering = store.agents
        let quickTests: any QuickTestStoring = store.quickTests
        let campaigns: any CampaignStoring = store.campaigns
        let profiles: any EngineProfileStoring = store.engineProfiles
        let sessions: any WebSessionStoring = store

        for (n, name) in ["gpu-01", "gpu-02", "gpu-03"].enumerated() {
            var registration = AgentRegistration(name: name, hostname: "\(name).lab")
            registration.gpuCount = n + 1
            registration.capabilities = ["vllm", "sglang"]
            let id = try waitFor {
                agents.register(registration, tokenAgentID: nil, installTokenHash: nil, installTokenCutoff: "", completion: $0)
            }.agentID
            agentIDs.append(id)
            var beat = AgentHeartbeat()
            beat.gpuUtilizationPct = 12.5 * Double(n)
            beat.engines = [AgentEngine(engine: "vllm", installed: true, running: n == 0, version: "0.6.\(n)")]
            _ = try waitFor { agents.heartbeat(idOrName: name, beat, offlineCutoff: "", completion: $0) }
        }
        #expect(try admin.updateSettings(idOrName: "gpu-01", [("heartbeat_interval_s", "10")]))
        #expect(try admin.update(idOrName: "gpu-02", notes: "rack 4", tags: ["a", "b"]))
        agentIDs.append(try admin.provisionToken(name: "gpu-provisioned", port: 9000, tokenHash: "ab12cd", rotate: true))
        try admin.recordInstallToken(hash: "install-1", port: 8090)
        // Several queued commands for one agent, some created in the same microsecond: the queue order.
        for n in 0..<4 {
            _ = try agents.queueCommand(
                agentID: agentIDs[1], type: "cleanup_storage", testID: nil, payload: .object(JSONObject([("n", .int(n))])))
        }

        for (n, agent) in agentIDs.prefix(3).enumerated() {
            var new = NewQuickTest(agentID: agent, agentName: "gpu-0\(n + 1)", modelPath: "/models/m\(n)", engineName: "vllm")
            new.profileID = n == 0 ? "p-1" : nil
            let test = try quickTests.create(new)
            quickTestIDs.append(test.id)
            for line in 0..<(n + 2) {
                _ = try waitFor {
                    quickTests.appendLogAsync(
                        testID: test.id, line: "test \(n) line \(line) ✓", agentID: nil,
                        limit: QuickTestRepository.LogLimit(lines: 100, bytes: 100_000), completion: $0)
                }
            }
        }
        _ = try quickTests.transition(id: quickTestIDs[0], to: .running, error: nil, agentID: nil)
        _ = try quickTests.transition(id: quickTestIDs[1], to: .failed, error: "out of memory", agentID: nil)

        let draft = try campaigns.create(name: "sweep", description: "nightly", agentID: agentIDs[2], config: #"{"models": ["a", "b"]}"#)
        _ = try campaigns.markQueued(id: draft.id)
        _ = try campaigns.markRunning(id: draft.id, totalRuns: 2, line: "start")
        let run = NewQuickTest(agentID: agentIDs[2], agentName: "gpu-03", modelPath: "/models/a", engineName: "vllm")
        if let queued = try campaigns.queueRun(campaignID: draft.id, test: run, line: "run 1") {
            quickTestIDs.append(queued.id)
            _ = try campaigns.finishRun(campaignID: draft.id, testID: queued.id, succeeded: true, line: "done 1")
        }
        try campaigns.appendLog(campaignID: draft.id, line: "a note")
        let second = try campaigns.create(name: "draft one", description: "", agentID: nil, config: "{}")
        campaignIDs = [draft.id, second.id]

        for (name, engine) in [("vllm-fast", "vllm"), ("Vllm-big", "vllm"), ("sg", "sglang")] {
            var fields = EngineProfileFields()
            fields.name = name
            fields.engine = engine
            fields.buildConfig = #"{"tp": 2}"#
            _ = try profiles.create(fields)
        }
        try waitFor { sessions.insertWebSession(WebSessionRecord(idHash: "h1", csrfToken: "c1", expiresAt: 4e9 + 0.25), now: 0, completion: $0) }
        try waitFor { sessions.insertWebSession(WebSessionRecord(idHash: "h2", csrfToken: "c2", expiresAt: 4e9), now: 0, completion: $0) }
    }
}
