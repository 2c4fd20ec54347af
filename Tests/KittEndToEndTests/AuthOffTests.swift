import Foundation
import KittApp
import KittBase
import KittJSON
import KittTestSupport
import Testing

/// Auth off (`--insecure` and no token, SPEC §7.2): browsers cannot be turned against the
/// server. Writes need `Content-Type: application/json` (no cross-site form posts) and every
/// request needs a Host that names this server (no DNS rebinding). Plain HTTP, real server.
@Suite(.serialized) struct AuthOffTests {
    static func openServer(_ configure: (inout WebOptions) -> Void = { _ in }) throws -> TestServer {
        try E2E.server(insecure: true) { options in
            options.authToken = nil
            configure(&options)
        }
    }

    /// One request on a new connection, with exactly the headers given (plus Content-Length).
    static func send(
        _ server: TestServer, _ method: String, _ path: String, host: String?, contentType: String?, body: String = ""
    ) throws -> TestResponse {
        let client = try server.connect()
        var head = "\(method) \(path) HTTP/1.1\r\nConnection: close\r\n"
        if let host { head += "Host: \(host)\r\n" }
        if let contentType { head += "Content-Type: \(contentType)\r\n" }
        head += "Content-Length: \(body.utf8.count)\r\n\r\n"
        try client.send(head + body)
        return try client.readResponse(isHead: method == "HEAD")
    }

    static let registration = #"{"name":"gpu-1","hostname":"gpu-1.lab"}"#

    func agentCount(_ server: TestServer) throws -> Int? {
        try AuthOffTests.send(server, "GET", "/api/v1/agents", host: "localhost", contentType: nil).json?["total"]?.intValue
    }

    @Test func crossSiteFormPosts_are415_andRegisterNothing() throws {
        let server = try AuthOffTests.openServer()
        defer { server.stop() }
        #expect(server.token == nil)
        let host = "127.0.0.1:\(server.port)"
        for contentType in ["text/plain", "application/x-www-form-urlencoded", "multipart/form-data; boundary=x", nil] {
            let response = try AuthOffTests.send(
                server, "POST", "/api/v1/agents/register", host: host, contentType: contentType,
                body: AuthOffTests.registration)
            #expect(response.status == 415, "\(contentType ?? "no content type"): \(response)")
            #expect(response.headers["Content-Type"] == "application/json")
            #expect(response.errorMessage?.contains("Content-Type: application/json") == true)
        }
        // DELETE without a JSON content type is a write too.
        let delete = try AuthOffTests.send(server, "DELETE", "/api/v1/agents/gpu-1", host: host, contentType: nil)
        #expect(delete.status == 415)
        #expect(try agentCount(server) == 0)

        // The same request as JSON (with a charset parameter) is served.
        let json = try AuthOffTests.send(
            server, "POST", "/api/v1/agents/register", host: host, contentType: "Application/JSON; charset=utf-8",
            body: AuthOffTests.registration)
        #expect(json.status == 201, "\(json)")
        #expect(try agentCount(server) == 1)
    }

    @Test func foreignHost_is421_forWritesAndReads() throws {
        let server = try AuthOffTests.openServer()
        defer { server.stop() }
        // A DNS-rebinding page sends its own name as Host.
        let write = try AuthOffTests.send(
            server, "POST", "/api/v1/agents/register", host: "evil.example:\(server.port)",
            contentType: "application/json", body: AuthOffTests.registration)
        #expect(write.status == 421, "\(write)")
        #expect(write.errorMessage?.contains("Host 'evil.example:\(server.port)'") == true)
        let read = try AuthOffTests.send(server, "GET", "/api/v1/results", host: "evil.example", contentType: nil)
        #expect(read.status == 421)
        #expect(read.headers["Content-Type"] == "application/json")
        #expect(try agentCount(server) == 0)
    }

    @Test func hostsThatNameThisServer_areServed() throws {
        let server = try AuthOffTests.openServer { $0.allowedHosts = ["kitt.lab.example"] }
        defer { server.stop() }
        let port = server.port
        let hosts = [
            "localhost", "LOCALHOST:\(port)", "127.0.0.1:\(port)", "10.1.2.3", "[::1]:\(port)", "[fe80::1]",
            Files.hostName(), "\(Files.hostName()).:\(port)", "kitt.lab.example:\(port)",
        ]
        for host in hosts {
            let response = try AuthOffTests.send(server, "GET", "/api/v1/health", host: host, contentType: nil)
            #expect(response.status == 200, "Host \(host): \(response)")
        }
        for host in ["localhost.evil.example", "\(Files.hostName()).evil.example", "127.0.0.1.nip.io"] {
            let response = try AuthOffTests.send(server, "GET", "/api/v1/health", host: host, contentType: nil)
            #expect(response.status == 421, "Host \(host): \(response)")
        }
    }

    @Test func legacyDashboard_checksHostToo() throws {
        let server = try AuthOffTests.openServer { $0.legacy = true }
        defer { server.stop() }
        #expect(try AuthOffTests.send(server, "GET", "/api/results", host: "localhost", contentType: nil).status == 200)
        #expect(try AuthOffTests.send(server, "GET", "/api/results", host: "rebound.example", contentType: nil).status == 421)
    }

    @Test func withAToken_neitherCheckApplies() throws {
        // Auth on: the bearer token is what protects writes; plain tools keep working as before.
        let server = try E2E.server(insecure: true)
        defer { server.stop() }
        let response = try server.request(
            "POST", "/api/v1/agents/register", body: Array(AuthOffTests.registration.utf8),
            headers: [("Content-Type", "text/plain")])
        #expect(response.status == 201, "\(response)")
    }
}
