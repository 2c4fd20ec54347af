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

/// The results/agents tests' view of `APIHarness` (same temp dir, store, router and reply
/// type): string bodies, the admin token by default, and the Host an agent on the network sends.
final class RouterHarness: APIClient {
    let api: APIHarness
    var store: Store { api.store }
    var context: APIContext { api.context }
    var router: Router { api.router }
    var token: String { api.token }
    var directory: URL { URL(fileURLWithPath: api.directory.path) }

    init(configure: (inout APISettings) -> Void = { _ in }) throws {
        api = try APIHarness { settings in
            settings.caCertificatePEM = "-----BEGIN CERTIFICATE-----\nMIIBfake\n-----END CERTIFICATE-----"
            configure(&settings)
        }
    }

    typealias Reply = TestResponse

    var adminToken: String { api.token }

    /// Every request carries the Host an agent on the network sends.
    func execute(
        _ method: HTTPMethod, _ target: String, headers: [(String, String)], body: [UInt8], token: String?
    ) -> TestResponse {
        api.call(method, target, body: body, token: token, headers: headers, host: "kitt.example:8443")
    }

    /// Stands for "the admin token" as a default argument.
    static let admin = "\u{0}admin"

    /// `token: nil` sends no Authorization header; the default is the admin token.
    func call(
        _ method: HTTPMethod, _ target: String, body: String? = nil, token: String? = RouterHarness.admin,
        headers extra: [(String, String)] = []
    ) -> Reply {
        let bearer = token == RouterHarness.admin ? self.token : token
        return execute(method, target, headers: extra, body: Array((body ?? "").utf8), token: bearer)
    }

    /// Registers an agent (admin by default, `admin: false` for no token); returns its id.
    func registerAgent(_ name: String, admin: Bool = true) throws -> String {
        try registerAgent(name, token: admin ? adminToken : nil)
    }

    /// Registers an agent with another bearer token (or none, `token: nil`); returns its id.
    func registerAgent(_ name: String, token: String?) throws -> String {
        let reply = try execute(.post, "/api/v1/agents/register", body: #"{"name": \#(quoted(name)), "hostname": "h-\#(name)"}"#, token: token)
        return reply.json?["agent_id"]?.stringValue ?? "register failed: \(reply.status) \(reply.text)"
    }

    /// Stores a result through the agent results endpoint (admin by default); returns its id.
    func postResult(agent: String, _ document: String, admin: Bool = true) throws -> String {
        try postResult(agent: agent, document, token: admin ? adminToken : nil)
    }

    /// Stores a result with another bearer token (or none, `token: nil`); returns its id.
    func postResult(agent: String, _ document: String, token: String?) throws -> String {
        let reply = try execute(.post, "/api/v1/agents/\(agent)/results", body: #"{"status":"completed","result_data": \#(document)}"#, token: token)
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
        #expect(try h.execute(.get, "/api/v1/results").status == 200)
        #expect(try h.execute(.get, "/api/v1/agents").status == 200)
    }
}
