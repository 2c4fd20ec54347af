#if canImport(FoundationEssentials)
import KittTestSupport
import FoundationEssentials
#else
import Foundation
#endif
import Dispatch
import KittAPI
import KittHTTP
import KittJSON
import KittStore
import Testing

/// In-process API harness for the results/agents tests: a Store in a temp dir, a context
/// and the real router; deferred responses are awaited (10 s deadline).
final class RouterHarness: Sendable {
    let directory: URL
    let store: Store
    let context: APIContext
    let router: Router
    let token = "admin-secret-token"

    init(configure: (inout APISettings) -> Void = { _ in }) throws {
        directory = FileManager.default.temporaryDirectory
            .appendingPathComponent("kitt-api-\(UUID().uuidString)", isDirectory: true)
        try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
        store = try Store(path: directory.appendingPathComponent("kitt.db").path)
        var settings = APISettings()
        settings.dataDirectory = directory.path
        // The repository's Config/ (Tests/KittAPITests/<file> → ../../Config).
        settings.configDirectory = URL(fileURLWithPath: #filePath).deletingLastPathComponent()
            .deletingLastPathComponent().deletingLastPathComponent().appendingPathComponent("Config").path
        settings.caCertificatePEM = "-----BEGIN CERTIFICATE-----\nMIIBfake\n-----END CERTIFICATE-----"
        configure(&settings)
        context = APIContext(settings: settings, auth: Auth(adminToken: token), store: store, events: EventBus())
        router = Routes.makeRouter(context: context)
    }

    deinit {
        store.close()
        try? FileManager.default.removeItem(at: directory)
    }

    struct Reply {
        let status: Int
        let headers: HTTPHeaders
        let body: [UInt8]
        var json: JSON? { try? JSON(parsing: body) }
        var text: String { String(decoding: body, as: UTF8.self) }
        var error: String? { json?["error"]?.stringValue }
    }

    /// Stands for "the admin token" as a default argument.
    static let admin = "\u{0}admin"

    /// `token: nil` sends no Authorization header; the default is the admin token.
    func call(
        _ method: HTTPMethod, _ target: String, body: String? = nil, token: String? = RouterHarness.admin,
        headers extra: [(String, String)] = []
    ) -> Reply {
        var headers = HTTPHeaders()
        headers.add(name: "Host", value: "kitt.example:8443")
        let bearer = token == RouterHarness.admin ? self.token : token
        if let bearer { headers.add(name: "Authorization", value: "Bearer \(bearer)") }
        for (name, value) in extra { headers.add(name: name, value: value) }
        let request = HTTPRequest(method: method, target: target, headers: headers, body: Array((body ?? "").utf8))
        let response = router.respond(to: request)
        if case .stream = response.body { return Reply(status: -2, headers: response.headers, body: []) }
        let final = APIHarness.settle(response)  // bounded; every store route answers deferred now
        return Reply(status: final.status.code, headers: final.headers, body: final.bodyBytes)
    }

    /// Registers an agent with the admin token; returns its id.
    func registerAgent(_ name: String, token: String? = RouterHarness.admin) -> String {
        let reply = call(.post, "/api/v1/agents/register", body: #"{"name": \#(quoted(name)), "hostname": "h-\#(name)"}"#, token: token)
        return reply.json?["agent_id"]?.stringValue ?? "register failed: \(reply.status) \(reply.text)"
    }

    /// Stores a result through the agent results endpoint; returns its id.
    func postResult(agent: String, _ document: String, token: String? = RouterHarness.admin) -> String {
        let reply = call(.post, "/api/v1/agents/\(agent)/results", body: #"{"status":"completed","result_data": \#(document)}"#, token: token)
        return reply.json?["result_id"]?.stringValue ?? "post failed: \(reply.status) \(reply.text)"
    }
}

func quoted(_ text: String) -> String { JSON.string(text).jsonString }

func document(model: String = "llama-3-8b", engine: String = "vllm", suite: String = "standard", day: Int = 1, tps: Double = 100) -> String {
    """
    {"model": \(quoted(model)), "engine": \(quoted(engine)), "suite_name": \(quoted(suite)),
     "timestamp": "2026-01-\(day < 10 ? "0" : "")\(day)T00:00:00Z", "passed": true, "total_benchmarks": 1,
     "passed_count": 1, "failed_count": 0, "total_time_seconds": 3.5, "kitt_version": "1.2.0",
     "results": [{"test_name": "throughput", "test_version": "1", "run_number": 1, "passed": true,
                  "metrics": {"avg_tps": \(tps), "ttft_ms": 40}, "errors": []}]}
    """
}

@Suite struct ResultsHarnessTests {
    @Test func harnessSeesTheRoutes() throws {
        let h = try RouterHarness()
        #expect(h.call(.get, "/api/v1/results").status == 200)
        #expect(h.call(.get, "/api/v1/agents").status == 200)
    }
}
