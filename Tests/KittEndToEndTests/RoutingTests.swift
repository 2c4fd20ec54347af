import Foundation
import KittAPI
import KittJSON
import KittTestSupport
import Testing

/// Health, version, errors and method handling through the real server over TLS.
@Suite(.serialized) struct RoutingTests {
    @Test func health_returnsStatusOK() throws {
        let server = try E2E.server()
        defer { server.stop() }
        let response = try server.request("GET", "/api/v1/health")
        #expect(response.status == 200)
        #expect(response.headers["Content-Type"] == "application/json")
        #expect(response.json == .object(["status": "ok"]))
        #expect(response.headers["Date"] != nil)
    }

    @Test func version_returnsVersionAPIVersionAndName() throws {
        let server = try E2E.server()
        defer { server.stop() }
        let response = try server.request("GET", "/api/v1/version")
        #expect(response.status == 200)
        #expect(response.json?["version"]?.stringValue == KittVersion.current)
        #expect(response.json?["api_version"]?.stringValue == "v1")
        #expect(response.json?["name"]?.stringValue == "KITT")
    }

    @Test func legacyHealth_returnsStatusAndVersion() throws {
        let server = try E2E.server()
        defer { server.stop() }
        let response = try server.request("GET", "/api/health")
        #expect(response.status == 200)
        #expect(response.json?["status"]?.stringValue == "ok")
        #expect(response.json?["version"]?.stringValue == KittVersion.current)
    }

    @Test func unknownRoute_returns404JSON() throws {
        let server = try E2E.server()
        defer { server.stop() }
        let response = try server.request("GET", "/api/v1/no-such-thing")
        #expect(response.status == 404)
        #expect(response.headers["Content-Type"] == "application/json")
        #expect(response.errorMessage?.isEmpty == false)
    }

    @Test func wrongMethod_returns405WithAllow() throws {
        let server = try E2E.server()
        defer { server.stop() }
        let response = try server.request("DELETE", "/api/v1/health")
        #expect(response.status == 405)
        #expect(response.headers["Content-Type"] == "application/json")
        #expect(response.errorMessage?.isEmpty == false)
        let allowed = response.headers["Allow"]?.split(separator: ",").map { $0.trimmingCharacters(in: .whitespaces) }
        #expect(allowed?.sorted() == ["GET", "HEAD"])
    }

    @Test func head_hasGETContentLengthAndNoBody() throws {
        let server = try E2E.server()
        defer { server.stop() }
        let get = try server.request("GET", "/api/v1/version")
        let client = try server.connect()
        // HEAD then GET on one connection: a body after the HEAD head would corrupt the GET.
        try client.send("HEAD /api/v1/version HTTP/1.1\r\nHost: localhost\r\n\r\n" + E2E.get("/api/v1/health"))
        let head = try client.readResponse(isHead: true)
        #expect(head.status == 200)
        #expect(head.headers["Content-Length"] == String(get.body.count))
        #expect(head.body.isEmpty)
        let next = try client.readResponse()
        #expect(next.status == 200)
        #expect(next.json == .object(["status": "ok"]))
    }

    @Test func trailingSlash_isTolerated() throws {
        let server = try E2E.server()
        defer { server.stop() }
        let response = try server.request("GET", "/api/v1/health/")
        #expect(response.status == 200)
        #expect(response.json == .object(["status": "ok"]))
    }

    @Test func absoluteFormTarget_isAccepted() throws {
        let server = try E2E.server()
        defer { server.stop() }
        let client = try server.connect()
        try client.send("GET https://localhost:\(server.port)/api/v1/health HTTP/1.1\r\nHost: localhost\r\n\r\n")
        let response = try client.readResponse()
        #expect(response.status == 200)
        #expect(response.json == .object(["status": "ok"]))
    }

    @Test func plainHTTP_insecureServerAnswers() throws {
        let server = try E2E.server(insecure: true)
        defer { server.stop() }
        #expect(server.caFile == nil)
        let response = try server.request("GET", "/api/v1/health")
        #expect(response.status == 200)
        #expect(response.json == .object(["status": "ok"]))
    }
}
