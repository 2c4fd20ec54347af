import KittJSON
import KittStore
import KittTestSupport
import Testing

/// A backend (`Backend.open`) with one registered agent, `gpu-1`.
final class ControlStoreFixture {
    let backend: OpenBackend
    let agentID: String
    var agents: any AgentStoring { backend.agents }
    var quickTests: any QuickTestStoring { backend.quickTests }
    var campaigns: any CampaignStoring { backend.campaigns }

    init(_ kind: Backend) throws {
        let backend = try kind.open()
        self.backend = backend
        agentID = try waitFor {
            backend.agents.register(AgentRegistration(name: "gpu-1", hostname: "gpu-1"), tokenAgentID: nil, completion: $0)
        }.agentID
    }

    func newTest(model: String = "/m") -> NewQuickTest {
        NewQuickTest(agentID: agentID, agentName: "gpu-1", modelPath: model, engineName: "vllm")
    }

    /// A log line through the live path (group commit); false when the test does not exist.
    func appendLog(testID: String, line: String, limit: QuickTestRepository.LogLimit = .standard) throws -> Bool {
        try waitFor { quickTests.appendLogAsync(testID: testID, line: line, limit: limit, completion: $0) } != nil
    }
}

/// Through the repository protocols, on every available backend (SQLite, PostgreSQL).
@Suite struct QuickTestRepositoryTests {
    @Test(arguments: Backend.available)
    func createWritesTestAndCommandTogether(backend: Backend) throws {
        let f = try ControlStoreFixture(backend)
        var new = f.newTest()
        new.profileID = "prof"
        let test = try f.quickTests.create(new)
        #expect(test.status == "queued" && test.agentName == "gpu-1")
        let commands = try f.quickTests.commands(agentID: f.agentID)
        #expect(commands.count == 1)
        #expect(commands[0].id == test.commandID && commands[0].testID == test.id && commands[0].type == "run_test")
        let payload = try JSON(parsing: Array(commands[0].payload.utf8))
        #expect(payload.objectValue?.keys == ["model_path", "engine_name", "benchmark_name", "suite_name", "engine_mode", "profile_id"])
        #expect(payload["profile_id"]?.stringValue == "prof")
        #expect(try f.quickTests.get(id: test.id) == test)

        // An agent that does not exist violates the command's foreign key: neither row stays.
        var orphan = f.newTest()
        orphan.agentID = "ffffffffffffffff"
        let error = #expect(throws: (any Error).self) { try f.quickTests.create(orphan) }
        #expect(error.map(f.backend.isDatabaseError) == true, "\(String(describing: error))")
        #expect(try f.quickTests.list(status: nil, agentName: nil, limit: 10, offset: 0).total == 1)
    }

    @Test(arguments: Backend.available)
    func statusStampsTimesAndRetiresQueuedCommand(backend: Backend) throws {
        let f = try ControlStoreFixture(backend)
        let test = try f.quickTests.create(f.newTest())
        let running = try #require(try f.quickTests.setStatus(id: test.id, status: "running", error: nil))
        #expect(running.startedAt != nil && running.completedAt == nil)
        #expect(try f.quickTests.commands(agentID: f.agentID, status: "queued").count == 1)
        let done = try #require(try f.quickTests.setStatus(id: test.id, status: "failed", error: "boom"))
        #expect(done.startedAt == running.startedAt && done.completedAt != nil && done.error == "boom")
        #expect(try f.quickTests.commands(agentID: f.agentID, status: "queued").isEmpty)
        #expect(try f.quickTests.setStatus(id: "ffffffffffffffff", status: "failed", error: nil) == nil)
        // The result is linked by the live path: the agent's report naming the test.
        let document = try ResultDocument(bytes: resultJSON())
        let report = try waitFor {
            f.agents.report(
                agentIDOrName: f.agentID, document: document, commandID: nil, testID: test.id, finished: true,
                completion: $0)
        }
        #expect(report.testID == test.id)
        #expect(try f.quickTests.get(id: test.id)?.resultID == report.resultID)
        #expect(report.resultID != nil)
    }

    @Test(arguments: Backend.available)
    func logsAndUnfinishedSweep(backend: Backend) throws {
        let f = try ControlStoreFixture(backend)
        let test = try f.quickTests.create(f.newTest())
        #expect(try f.appendLog(testID: test.id, line: "one"))
        #expect(try !f.appendLog(testID: "ffffffffffffffff", line: "x"))
        #expect(try f.quickTests.logs(testID: test.id)?.map(\.line) == ["one"])
        #expect(try f.quickTests.logs(testID: "ffffffffffffffff") == nil)
        #expect(try f.quickTests.unfinished(startedBefore: "2000-01-01T00:00:00.000000Z").isEmpty)
        #expect(try f.quickTests.unfinished(startedBefore: "2999-01-01T00:00:00.000000Z").map(\.id) == [test.id])
        _ = try f.quickTests.setStatus(id: test.id, status: "completed", error: nil)
        #expect(try f.quickTests.unfinished(startedBefore: "2999-01-01T00:00:00.000000Z").isEmpty)
    }

    @Test(arguments: Backend.available)
    func logKeepsTheNewestLinesUpToTheCap(backend: Backend) throws {
        let f = try ControlStoreFixture(backend)
        let test = try f.quickTests.create(f.newTest())
        let other = try f.quickTests.create(f.newTest())
        let fiveLines = QuickTestRepository.LogLimit(lines: 5, bytes: 1 << 20)
        for i in 1...8 { #expect(try f.appendLog(testID: test.id, line: "line \(i)", limit: fiveLines)) }
        #expect(try f.appendLog(testID: other.id, line: "other", limit: fiveLines))
        // The oldest go, the newest five stay in order; another test's log is untouched.
        #expect(try f.quickTests.logs(testID: test.id)?.map(\.line) == (4...8).map { "line \($0)" })
        #expect(try f.quickTests.logs(testID: other.id)?.map(\.line) == ["other"])
        let counters = try f.backend.row("SELECT log_count, log_bytes FROM quick_tests WHERE id = ?", [.text(test.id)])
        #expect(counters?.int(0) == 5)
        #expect(counters?.int(1) == 5 * "line 4".utf8.count)
        #expect(QuickTestRepository.LogLimit.standard.lines == 10_000)
        #expect(QuickTestRepository.LogLimit.standard.bytes == 4 << 20)
    }

    @Test(arguments: Backend.available)
    func logKeepsTheNewestBytesUpToTheBudget(backend: Backend) throws {
        let f = try ControlStoreFixture(backend)
        let test = try f.quickTests.create(f.newTest())
        let budget = QuickTestRepository.LogLimit(lines: 1_000, bytes: 100)
        // "é" is two bytes: the budget counts UTF-8 bytes, not characters.
        for i in 0..<10 { #expect(try f.appendLog(testID: test.id, line: "\(i)" + String(repeating: "é", count: 12), limit: budget)) }
        // 25 bytes a line: four fit in 100.
        #expect(try f.quickTests.logs(testID: test.id)?.map { $0.line.prefix(1) } == ["6", "7", "8", "9"])
        // One line bigger than the budget is still kept, alone (the newest always is).
        #expect(try f.appendLog(testID: test.id, line: String(repeating: "x", count: 500), limit: budget))
        #expect(try f.quickTests.logs(testID: test.id)?.map(\.line.count) == [500])
    }

    @Test(arguments: Backend.available)
    func agentScopedStatusAndLogTouchOnlyThatAgentsTest(backend: Backend) throws {
        let f = try ControlStoreFixture(backend)
        let test = try f.quickTests.create(f.newTest())
        #expect(try f.quickTests.setStatus(id: test.id, status: "failed", error: "x", agentID: "someone-else") == nil)
        #expect(try f.quickTests.get(id: test.id)?.status == "queued")
        let appended = try waitFor {
            f.quickTests.appendLogAsync(testID: test.id, line: "forged", agentID: "someone-else", completion: $0)
        }
        #expect(appended == nil)
        #expect(try f.quickTests.logs(testID: test.id)?.isEmpty == true)
        #expect(try f.quickTests.setStatus(id: test.id, status: "running", error: nil, agentID: test.agentID)?.status == "running")
    }
}
