import KittAPI
import KittHTTP
import KittJSON
import KittTestSupport
import Testing

extension APIHarness {
    /// The results/agents tests' setup: a CA certificate for the install script to embed,
    /// and the Host an agent on the network sends.
    static func agentFacing(configure: (inout APISettings) -> Void = { _ in }) throws -> APIHarness {
        try APIHarness(host: "kitt.example:8443") { settings in
            settings.caCertificatePEM = "-----BEGIN CERTIFICATE-----\nMIIBfake\n-----END CERTIFICATE-----"
            configure(&settings)
        }
    }
}

extension APIClient {
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
        let h = try APIHarness.agentFacing()
        #expect(try h.execute(.get, "/api/v1/results").status == 200)
        #expect(try h.execute(.get, "/api/v1/agents").status == 200)
    }
}
