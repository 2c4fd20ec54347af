import Foundation
import KittJSON
import KittTestSupport
import Testing

/// SPEC §7.2, hostile input, through the real server over TLS: no number a client sends can
/// make it trap, stored numbers of any size render, and served JSON never has a key twice.
/// One server (with an agent) serves the whole suite; every case checks it still answers.
@Suite(.serialized, SharedHostileServer()) struct HostileInputTests {
    static var server: TestServer { SharedHostileServer.current! }
    static var agent: SharedHostileServer.Agent { SharedHostileServer.agent! }

    static let collections = [
        "/api/v1/results/", "/api/v1/agents/", "/api/v1/quicktest/", "/api/v1/campaigns/", "/api/v1/quicktest/models",
        "/api/v1/models/local",
    ]

    /// (query, the parameter the 400 must name): the first ones used to overflow `Page.offset`.
    static let badPages: [(query: String, parameter: String)] = [
        ("page=9223372036854775807", "page"), ("page=92233720368547759&per_page=100", "page"),
        ("page=1000000001", "page"), ("page=-9223372036854775808", "page"), ("page=0", "page"),
        ("per_page=99999999999999999999", "per_page"), ("per_page=0", "per_page"), ("page=1e3", "page"),
    ]

    @Test(arguments: collections, badPages)
    func outOfRangePage_is400NamingIt_andTheServerStaysUp(route: String, bad: (query: String, parameter: String))
        throws
    {
        let response = try Self.server.request("GET", "\(route)?\(bad.query)")
        #expect(response.status == 400, "\(response)")
        #expect(response.errorMessage?.hasPrefix("\(bad.parameter) must be") == true, "\(response)")
        #expect(try Self.server.request("GET", "/api/v1/health").status == 200)
    }

    @Test(arguments: collections)
    func hugePerPage_isClampedTo100(route: String) throws {
        let response = try Self.server.request("GET", "\(route)?per_page=9223372036854775807&page=3")
        #expect(response.status == 200, "\(response)")
        #expect(response.json?["per_page"]?.intValue == 100)
        #expect(response.json?["page"]?.intValue == 3)
    }

    @Test func lastEventIDOutOfRange_is400NamingIt() throws {
        let response = try Self.server.request(
            "GET", "/api/v1/events/stream", headers: [("Last-Event-ID", "99999999999999999999")], timeout: 5)
        #expect(response.status == 400, "\(response)")
        #expect(response.errorMessage?.hasPrefix("Last-Event-ID must be") == true, "\(response)")
    }

    @Test func campaignPlanningTooManyRuns_is400() throws {
        let models = (0..<101).map { JSON.object(JSONObject([("name", .string("m\($0)"))])) }
        let engines = (0..<100).map { JSON.object(JSONObject([("name", .string("e\($0)"))])) }
        let response = try Self.server.request(
            "POST", "/api/v1/campaigns",
            json: ["name": "huge", "config": ["models": .array(models), "engines": .array(engines)]])
        #expect(response.status == 400, "\(response)")
        #expect(response.errorMessage?.contains("at most 10000") == true, "\(response)")
    }

    /// kitt serves each result with its own `"id"` in front of the stored bytes: a document
    /// that brings one (in any spelling), or any key twice, is refused whole.
    @Test(arguments: [
        #"{"model":"refused","engine":"vllm","id":"attacker"}"#,
        #"{"id":"attacker","model":"refused","engine":"vllm"}"#,
        #"{"model":"refused","engine":"vllm","\u0069d":"attacker"}"#,
        #"{"model":"refused","engine":"vllm","model":"other"}"#,
        #"{"model":"refused","engine":"vllm","results":[{"metrics":{"tps":1,"tps":2}}]}"#,
    ])
    func resultDataWithItsOwnIDOrARepeatedKey_is400_andNothingIsStored(document: String) throws {
        let before = try Self.server.request("GET", "/api/v1/results/").json?["total"]?.intValue
        let response = try Self.server.request(
            "POST", "/api/v1/agents/\(Self.agent.id)/results",
            body: Array(#"{"status":"running","result_data":\#(document)}"#.utf8), token: Self.agent.token,
            headers: [("Content-Type", "application/json")])
        #expect(response.status == 400, "\(response)")
        let message = response.errorMessage ?? ""
        #expect(message.contains("'id'") || message.contains("duplicate key"), "\(response)")
        #expect(try Self.server.request("GET", "/api/v1/results/").json?["total"]?.intValue == before)
        #expect(try Self.server.request("GET", "/api/v1/results/?model=refused").json?["total"]?.intValue == 0)
    }

    /// Stored numbers may be anything JSON allows: every reader copes (API list, aggregate,
    /// the legacy page and its JSON), and the document comes back exactly as sent.
    @Test func hostileNumbersInAResult_areStoredServedAggregatedAndRendered() throws {
        let document = """
            {"model":"hostile-numbers","engine":"vllm","suite_name":"quick","total_time_seconds":1e19,\
            "total_benchmarks":9223372036854775808,"passed_count":-9223372036854775808,"failed_count":1e308,\
            "results":[{"test_name":"t","run_number":1e300,"passed":true,"metrics":{"tps":1e308,"ttft":-1e308,\
            "tiny":5e-324,"sub":1e-320,"big":123456789012345678901234567890,"neg":-0}},\
            {"test_name":"u","metrics":{"tps":1e308}}],\
            "system_info":{"gpu":{"count":1e19,"vram_gb":1e308},"cpu":{"cores":-1e308},"ram_gb":5e-324}}
            """
        let posted = try Self.server.request(
            "POST", "/api/v1/agents/\(Self.agent.id)/results",
            body: Array(#"{"status":"running","result_data":\#(document)}"#.utf8), token: Self.agent.token,
            headers: [("Content-Type", "application/json")])
        #expect(posted.status == 202, "\(posted)")
        let id = try #require(posted.json?["result_id"]?.stringValue)

        let one = try Self.server.request("GET", "/api/v1/results/\(id)")
        #expect(one.status == 200)
        #expect(one.text == #"{"id":"\#(id)","# + document.dropFirst())
        let list = try Self.server.request("GET", "/api/v1/results/?model=hostile-numbers")
        #expect(list.json?["total"]?.intValue == 1)
        _ = try JSON(parsing: list.body, uniqueKeys: true)
        let aggregate = try Self.server.request(
            "GET", "/api/v1/results/aggregate?group_by=model&metric=tps&metric=tiny&metric=big")
        #expect(aggregate.status == 200, "\(aggregate)")
        let row = try #require(aggregate.json?.arrayValue?.first { $0["model"]?.stringValue == "hostile-numbers" })
        #expect(row["tiny_avg"]?.doubleValue == Double.leastNonzeroMagnitude)
        #expect(row["tps_avg"] != nil)  // 1e308 + 1e308 overflows the average's sum: null, not a trap

        // The legacy dashboard over the same store (plain HTTP, as `--legacy` serves it).
        let legacy = try TestServer.start(directory: Self.server.directory) { $0.legacy = true }
        defer { legacy.stop() }
        let page = try legacy.request("GET", "/?model=hostile-numbers", token: nil)
        #expect(page.status == 200, "\(page)")
        #expect(page.text.contains("hostile-numbers"))
        let runs = try legacy.request("GET", "/api/results?model=hostile-numbers", token: nil)
        #expect(runs.status == 200)
        #expect(try JSON(parsing: runs.body, uniqueKeys: true).arrayValue?.count == 1)
        #expect(try legacy.request("GET", "/api/results/99999999999999999999", token: nil).errorMessage?
            .hasPrefix("index must be an integer") == true)
        #expect(try Self.server.request("GET", "/api/v1/health").status == 200)
    }
}

/// One TLS server for the suite, with one agent registered through its install script.
struct SharedHostileServer: SuiteTrait, TestScoping {
    struct Agent: Sendable {
        let id: String
        let token: String
    }

    @TaskLocal static var current: TestServer?
    @TaskLocal static var agent: Agent?

    func provideScope(
        for test: Test, testCase: Test.Case?, performing function: @Sendable () async throws -> Void
    ) async throws {
        let server = try E2E.server()
        defer { server.stop() }
        let agent = try SharedHostileServer.register(on: server)
        try await SharedHostileServer.$current.withValue(server) {
            try await SharedHostileServer.$agent.withValue(agent) { try await function() }
        }
    }

    static func register(on server: TestServer) throws -> Agent {
        let script = try server.request("GET", "/api/v1/agent/install.sh?name=hostile-input-agent")
        let line = try #require(script.text.split(separator: "\n").first { $0.hasPrefix("KITT_TOKEN=") })
        let token = String(line.dropFirst("KITT_TOKEN=".count).filter { $0 != "'" && $0 != "\"" })
        let registered = try server.request(
            "POST", "/api/v1/agents/register", json: ["name": "hostile-input-agent", "hostname": "lab-1"], token: token)
        let id = try #require(registered.json?["agent_id"]?.stringValue, "\(registered)")
        return Agent(id: id, token: token)
    }
}
