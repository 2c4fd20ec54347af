import Foundation
import KittAgent
import KittJSON
import KittNet
import Synchronization
import Testing

/// The server as a script: records every POST and answers through `respond`.
final class FakeServer: AgentServer {
    struct Call: Sendable {
        let path: String
        let body: JSON
    }

    private let calls = Mutex<[Call]>([])
    private let responder: Mutex<@Sendable (String, JSON, Int) throws(ClientError) -> ServerReply>

    init(_ respond: @escaping @Sendable (String, JSON, Int) throws(ClientError) -> ServerReply = FakeServer.normal) {
        responder = Mutex(respond)
    }

    func post(_ path: String, _ body: JSON) throws(ClientError) -> ServerReply {
        let count = calls.withLock { c -> Int in
            c.append(Call(path: path, body: body))
            return c.filter { $0.path == path }.count
        }
        let respond = responder.withLock { $0 }
        return try respond(path, body, count)
    }

    func setResponder(_ respond: @escaping @Sendable (String, JSON, Int) throws(ClientError) -> ServerReply) {
        responder.withLock { $0 = respond }
    }

    var all: [Call] { calls.withLock { $0 } }
    func paths(containing text: String) -> [Call] { all.filter { $0.path.contains(text) } }

    /// A well-behaved server: agent "a1", no commands, 30 s heartbeat setting.
    @Sendable static func normal(_ path: String, _ body: JSON, _ count: Int) throws(ClientError) -> ServerReply {
        if path == "/agents/register" {
            return ServerReply(status: 201, json: ["agent_id": "a1", "heartbeat_interval_s": 30])
        }
        if path.hasSuffix("/heartbeat") {
            return ServerReply(
                status: 200,
                json: ["ack": true, "agent_id": "a1", "commands": [], "settings": ["heartbeat_interval_s": "45"]])
        }
        if path.hasSuffix("/results") { return ServerReply(status: 202, json: ["accepted": true, "result_id": "r1"]) }
        return ServerReply(status: 200, json: ["ok": true])
    }

    /// The heartbeat reply carrying `commands` on the first heartbeat only.
    static func handing(_ commands: [JSON]) -> @Sendable (String, JSON, Int) throws(ClientError) -> ServerReply {
        { path, body, count throws(ClientError) in
            if path.hasSuffix("/heartbeat") && count == 1 {
                return ServerReply(
                    status: 200, json: ["ack": true, "agent_id": "a1", "commands": .array(commands), "settings": [:]])
            }
            return try normal(path, body, count)
        }
    }
}

/// An engine with fixed timings that counts requests in flight.
final class FakeEngine: InferenceEngine {
    let delay: Double
    let fail: Bool
    let failure: String
    private let inFlight = Mutex((now: 0, max: 0, total: 0))

    init(delay: Double = 0.01, fail: Bool = false, failure: String = "boom") {
        self.delay = delay
        self.fail = fail
        self.failure = failure
    }

    var maxInFlight: Int { inFlight.withLock { $0.max } }
    var total: Int { inFlight.withLock { $0.total } }

    private func work() throws(EngineError) {
        inFlight.withLock {
            $0.now += 1
            $0.total += 1
            $0.max = max($0.max, $0.now)
        }
        defer { inFlight.withLock { $0.now -= 1 } }
        Thread.sleep(forTimeInterval: delay)
        if fail { throw EngineError("engine answered HTTP 500: \(failure)") }
    }

    func complete(model: String, prompt: String, maxTokens: Int) throws(EngineError) -> CompletionSample {
        try work()
        return CompletionSample(latency: delay, outputTokens: 10)
    }

    func stream(model: String, prompt: String, maxTokens: Int) throws(EngineError) -> StreamSample {
        try work()
        return StreamSample(timeToFirstToken: delay / 2, latency: delay, outputTokens: 10)
    }
}

func waitUntil(_ seconds: Double = 10, _ condition: () -> Bool) -> Bool {
    let deadline = Date().addingTimeInterval(seconds)
    while Date() < deadline {
        if condition() { return true }
        Thread.sleep(forTimeInterval: 0.01)
    }
    return condition()
}

func runTest(_ id: String, test: String, benchmark: String = "throughput") -> JSON {
    [
        "command_id": .string(id), "test_id": .string(test), "type": "run_test",
        "payload": [
            "model_path": "org/m", "engine_name": "vllm", "benchmark_name": .string(benchmark), "suite_name": "quick",
        ],
    ]
}

@Suite(.serialized) struct AgentLoopTests {
    let facts = MachineFacts(
        hostname: "h", cpuModel: "c", cpuArch: "x86_64", cores: 2, ramGB: 8, gpus: [], environmentType: "native_linux")

    func makeAgent(
        _ server: FakeServer, engine: FakeEngine = FakeEngine(), interval: Double? = 0.05,
        configure: (inout AgentConfiguration) -> Void = { _ in }
    ) -> Agent {
        var config = AgentConfiguration(server: "https://s", token: "t", name: "rig")
        config.heartbeatInterval = interval
        config.engineURL = "http://engine"
        config.throughputPrompts = 4
        config.throughputConcurrency = 2
        config.latencyRequests = 3
        configure(&config)
        return Agent(
            config: config, server: server, facts: facts, version: "0.9.0", home: "/tmp", log: { _ in },
            makeEngine: { _ in engine })
    }

    @Test func registersHeartbeatsAndFollowsTheServersInterval() {
        let server = FakeServer()
        let agent = makeAgent(server, interval: nil)
        agent.start()
        defer { agent.stop() }
        #expect(waitUntil { !server.paths(containing: "/heartbeat").isEmpty })
        let register = server.paths(containing: "/register").first?.body
        #expect(register?["name"]?.stringValue == "rig")
        #expect(register?["hostname"]?.stringValue == "h")
        #expect(server.paths(containing: "/agents/a1/heartbeat").first?.body["status"]?.stringValue == "online")
        #expect(server.paths(containing: "/agents/a1/heartbeat").first?.body["engines"]?.arrayValue != nil, "engines are reported")
        #expect(agent.agentID == "a1")
        #expect(waitUntil { agent.heartbeatInterval == 45 })  // register said 30, the settings say 45
    }

    @Test func runTestPostsRunningLogsResultAndCompletedInOrder() throws {
        let server = FakeServer(FakeServer.handing([runTest("c1", test: "t1")]))
        let agent = makeAgent(server)
        agent.start()
        defer { agent.stop() }
        #expect(
            waitUntil { server.all.contains { $0.path == "/quicktest/t1/status" && $0.body["status"] == "completed" } })
        let testCalls = server.all.filter { $0.path.hasPrefix("/quicktest/t1") || $0.path.hasSuffix("/results") }
        #expect(testCalls.first?.path == "/quicktest/t1/status")
        #expect(testCalls.first?.body["status"]?.stringValue == "running")
        #expect(testCalls.contains { $0.path == "/quicktest/t1/logs" })
        let results = try #require(server.paths(containing: "/agents/a1/results").first?.body)
        #expect(results["command_id"]?.stringValue == "c1")
        #expect(results["test_id"]?.stringValue == "t1")
        #expect(results["status"]?.stringValue == "completed")
        let document = try #require(results["result_data"])
        #expect(document["model"]?.stringValue == "org/m")
        #expect(document["engine"]?.stringValue == "vllm")
        #expect(document["results"]?.arrayValue?.first?["metrics"]?["successful_requests"]?.doubleValue == 4)
        // The result is reported before the test is marked completed (the campaign advances on it).
        let resultIndex = server.all.firstIndex { $0.path.hasSuffix("/results") } ?? -1
        let doneIndex =
            server.all.firstIndex { $0.path == "/quicktest/t1/status" && $0.body["status"] == "completed" } ?? -1
        #expect(resultIndex < doneIndex)
    }

    @Test func commandsRunOneAtATimeAndOnce() {
        let engine = FakeEngine(delay: 0.02)
        // The same command twice (a re-send) and a second test: two runs, never overlapping.
        let server = FakeServer(
            FakeServer.handing([
                runTest("c1", test: "t1"), runTest("c1", test: "t1"), runTest("c2", test: "t2", benchmark: "latency"),
            ]))
        let agent = makeAgent(server, engine: engine) { $0.throughputConcurrency = 1 }
        agent.start()
        defer { agent.stop() }
        #expect(
            waitUntil { server.all.contains { $0.path == "/quicktest/t2/status" && $0.body["status"] == "completed" } })
        #expect(engine.maxInFlight == 1)
        #expect(engine.total == 4 + 3)
        #expect(server.paths(containing: "/results").count == 2)
    }

    @Test func failingEngineAndUnknownCommandsAreReportedFailed() throws {
        let server = FakeServer(
            FakeServer.handing([
                runTest("c1", test: "t1"),
                ["command_id": "c2", "test_id": "t2", "type": "reboot_machine", "payload": [:]],
                runTest("c3", test: "t3", benchmark: "perplexity"),
                ["no_command_id": true], "garbage",
            ]))
        let agent = makeAgent(server, engine: FakeEngine(fail: true))
        agent.start()
        defer { agent.stop() }
        #expect(
            waitUntil { server.all.contains { $0.path == "/quicktest/t3/status" && $0.body["status"] == "failed" } })
        let reports = server.paths(containing: "/results").map(\.body)
        #expect(reports.count == 3)
        #expect(reports[0]["status"]?.stringValue == "failed")
        #expect(reports[0]["error"]?.stringValue?.contains("boom") == true)
        #expect(reports[0]["result_data"]?["passed"]?.boolValue == false)
        #expect(reports[1]["error"]?.stringValue?.contains("unknown command type 'reboot_machine'") == true)
        #expect(reports[2]["error"]?.stringValue?.contains("unknown benchmark 'perplexity'") == true)
        let t2 = server.all.filter { $0.path == "/quicktest/t2/status" }.map { $0.body["status"]?.stringValue }
        #expect(t2 == ["failed"])
    }

    @Test func reRegistersOn404AndSurvivesGarbageAndErrors() {
        let server = FakeServer { path, body, count throws(ClientError) in
            if path.hasSuffix("/heartbeat") {
                switch count {
                case 1: return ServerReply(status: 200, json: nil)  // not JSON
                case 2: return ServerReply(status: 200, json: ["commands": "nope", "settings": 5])  // wrong types
                case 3: throw ClientError.connectFailed("refused")
                case 4: return ServerReply(status: 503, json: ["error": "busy"])
                case 5: return ServerReply(status: 404, json: ["error": "agent not found"])
                default: break
                }
            }
            return try FakeServer.normal(path, body, count)
        }
        let agent = makeAgent(server)
        agent.start()
        defer { agent.stop() }
        // Backoff after errors is 1 s, then 2 s: allow for it.
        #expect(waitUntil(15) { server.paths(containing: "/heartbeat").count >= 7 })
        #expect(server.paths(containing: "/register").count == 2)
        #expect(agent.agentID == "a1")
    }

    @Test func stopFailsTheCurrentTestAndQueuedOnesAndTellsTheServer() {
        let engine = FakeEngine(delay: 0.2)
        let server = FakeServer(FakeServer.handing([runTest("c1", test: "t1"), runTest("c2", test: "t2")]))
        let agent = makeAgent(server, engine: engine) {
            $0.throughputPrompts = 1000
            $0.throughputConcurrency = 1
        }
        agent.start()
        #expect(waitUntil { engine.total >= 1 })
        let started = Date()
        agent.stop()
        #expect(Date().timeIntervalSince(started) < 5)
        let t1 = server.all.filter { $0.path == "/quicktest/t1/status" }.map { $0.body }
        #expect(t1.last?["status"]?.stringValue == "failed")
        #expect(t1.last?["error"]?.stringValue?.contains("stopped") == true)
        let t2 = server.all.filter { $0.path == "/quicktest/t2/status" }.map { $0.body }
        #expect(t2.map { $0["status"]?.stringValue } == ["failed"])
        #expect(server.paths(containing: "/results").count == 2)
    }

    @Test func reportsAreRetriedThroughAnOutage() {
        // The results endpoint fails twice (server restarting), then accepts.
        let server = FakeServer { path, body, count throws(ClientError) in
            if path.hasSuffix("/results") && count <= 2 { throw ClientError.connectFailed("refused") }
            if path.hasSuffix("/heartbeat") && count == 1 {
                return ServerReply(status: 200, json: ["agent_id": "a1", "commands": [runTest("c1", test: "t1")]])
            }
            return try FakeServer.normal(path, body, count)
        }
        let agent = makeAgent(server)
        agent.start()
        defer { agent.stop() }
        #expect(
            waitUntil(10) {
                server.all.contains { $0.path == "/quicktest/t1/status" && $0.body["status"] == "completed" }
            })
        #expect(server.paths(containing: "/results").count == 3)
    }

    @Test func cleanupCommandRemovesUnderStorageAndReports() throws {
        let temp = NSTemporaryDirectory() + "kitt-agent-loop-\(UUID().uuidString.prefix(8))"
        defer { try? FileManager.default.removeItem(atPath: temp) }
        try FileManager.default.createDirectory(atPath: temp + "/models/a", withIntermediateDirectories: true)
        try FileManager.default.createDirectory(atPath: temp + "/keep", withIntermediateDirectories: true)
        try Data(count: 100).write(to: URL(fileURLWithPath: temp + "/models/a/w.gguf"))
        try Data(count: 1).write(to: URL(fileURLWithPath: temp + "/keep/x"))
        let server = FakeServer(
            FakeServer.handing([
                ["command_id": "k1", "type": "cleanup_storage", "payload": ["model_path": "a"]],
                ["command_id": "k2", "type": "cleanup_storage", "payload": ["model_path": "../keep"]],
            ]))
        let agent = makeAgent(server) { $0.storageDirectory = temp + "/models" }
        agent.start()
        defer { agent.stop() }
        #expect(waitUntil { server.paths(containing: "/results").count == 2 })
        let reports = server.paths(containing: "/results").map(\.body)
        #expect(reports[0]["status"]?.stringValue == "completed")
        #expect(reports[0]["freed_bytes"]?.intValue == 100)
        #expect(reports[1]["status"]?.stringValue == "failed")
        #expect(reports[1]["error"]?.stringValue?.contains("outside") == true)
        #expect(!FileManager.default.fileExists(atPath: temp + "/models/a"))
        #expect(FileManager.default.fileExists(atPath: temp + "/keep/x"))
    }

    @Test func serverStorageSettingOutsideTheAllowedRootsIsRefused() {
        // First heartbeats say "/" (refused, logged once), later ones a directory under the home.
        let server = FakeServer { path, body, count throws(ClientError) in
            if path.hasSuffix("/heartbeat") {
                let dir = count < 4 ? "/" : "/tmp/kitt-models"
                return ServerReply(
                    status: 200, json: ["ack": true, "agent_id": "a1", "commands": [], "settings": ["model_storage_dir": .string(dir)]])
            }
            return try FakeServer.normal(path, body, count)
        }
        let lines = Mutex<[String]>([])
        var config = AgentConfiguration(server: "https://s", token: "t", name: "rig")
        config.heartbeatInterval = 0.05
        let agent = Agent(
            config: config, server: server, facts: facts, version: "0.9.0", home: "/tmp",
            log: { line in lines.withLock { $0.append(line) } }, makeEngine: { _ in FakeEngine() })
        agent.start()
        defer { agent.stop() }
        #expect(waitUntil { agent.storageDirectory == "/tmp/kitt-models" })
        let refusals = lines.withLock { $0 }.filter { $0.contains("model storage refused") }
        #expect(refusals.count == 1, "\(refusals)")
        #expect(refusals.first?.contains("root directory") == true)
    }

    @Test func errorsAndLogLinesAreClippedToTheServersLimits() {
        // 3,000 three-byte characters: 9,000 bytes, over the server's 4 KiB for `error`.
        let server = FakeServer(FakeServer.handing([runTest("c1", test: "t1")]))
        let agent = makeAgent(server, engine: FakeEngine(fail: true, failure: String(repeating: "€", count: 3_000)))
        agent.start()
        defer { agent.stop() }
        #expect(waitUntil { server.all.contains { $0.path == "/quicktest/t1/status" && $0.body["status"] == "failed" } })
        let errors = server.all.compactMap { $0.body["error"]?.stringValue }
        #expect(!errors.isEmpty)
        for error in errors {
            #expect(error.utf8.count <= 4096, "\(error.utf8.count) bytes")
            #expect(error.utf8.count > 4000)
            #expect(error.hasSuffix("€"))  // cut on a character boundary
        }
        for line in server.paths(containing: "/logs").compactMap({ $0.body["line"]?.stringValue }) {
            #expect(line.utf8.count <= 16 * 1024)
        }
    }
}
