import KittHTTP
import KittJSON
import KittTestSupport
import Testing

/// One test body, two transports (Hummingbird's `.router` / `.live`): each body runs against
/// the router in process and against the real server over TLS, and must see the same API.
enum Transport: String, CaseIterable, Sendable, CustomTestStringConvertible {
    case inProcess, live
    var testDescription: String { rawValue }

    /// Runs `body` against a fresh client of this kind, torn down afterwards.
    func run(_ body: (any APIClient) throws -> Void) throws {
        switch self {
        case .inProcess:
            try body(try APIHarness())
        case .live:
            let server = try E2E.server()
            defer { server.stop() }
            try body(server)
        }
    }
}

@Suite(.serialized) struct TransportParityTests {
    @Test(arguments: Transport.allCases)
    func agentLifecycleAndAuthAreTheSameBothWays(_ transport: Transport) throws {
        try transport.run { client in
            #expect(try client.execute(.get, "/api/v1/health").json == ["status": "ok"])

            let anonymous = try client.execute(.post, "/api/v1/agents/register", json: ["name": "gpu-1"], admin: false)
            #expect(anonymous.status == 401)
            #expect(anonymous.errorMessage?.isEmpty == false)

            let registered = try client.execute(.post, "/api/v1/agents/register", json: ["name": "gpu-1", "hostname": "h1"])
            #expect(registered.status == 200 || registered.status == 201, "\(registered)")
            let id = try #require(registered.json?["agent_id"]?.stringValue)
            let listed = try client.execute(.get, "/api/v1/agents")
            #expect(listed.status == 200)
            #expect(listed.text.contains(id))

            let wrongMethod = try client.execute(.delete, "/api/v1/health")
            #expect(wrongMethod.status == 405)
            #expect(wrongMethod.headers["Allow"]?.contains("GET") == true)
            let missing = try client.execute(.get, "/api/v1/results/ffffffffffffffff")
            #expect(missing.status == 404)
            #expect(missing.headers["Content-Type"] == "application/json")
        }
    }
}
