import Foundation
import KittTestSupport
import Testing

/// Responses that complete later (a handler answering with `.deferred` after a group-commit
/// write) through the real connection: order, half-closed clients, shutdown. The route used is
/// `POST /quicktest/<id>/logs` on an unknown id: its 404 comes back through the deferred path.
@Suite(.serialized) struct DeferredResponseTests {
    static func deferredPost(id: String = "0000000000000000", extra: String = "") -> String {
        let body = #"{"line":"hello"}"#
        return "POST /api/v1/quicktest/\(id)/logs HTTP/1.1\r\nHost: localhost\r\n"
            + "Authorization: Bearer \(TestServer.defaultToken)\r\nContent-Type: application/json\r\n"
            + "Content-Length: \(body.utf8.count)\r\n\(extra)\r\n\(body)"
    }

    @Test func deferredResponse_arrivesAsJSON() throws {
        let server = try E2E.server()
        defer { server.stop() }
        let client = try server.connect()
        try client.send(DeferredResponseTests.deferredPost())
        let response = try client.readResponse(timeout: 5)
        #expect(response.status == 404)
        #expect(response.headers["Content-Type"] == "application/json")
        #expect(response.errorMessage?.isEmpty == false)
    }

    @Test func pipelinedDeferredAndImmediateResponses_comeBackInRequestOrder() throws {
        let server = try E2E.server()
        defer { server.stop() }
        let client = try server.connect()
        var burst = ""
        for index in 0..<30 {
            burst +=
                index % 3 == 0
                ? DeferredResponseTests.deferredPost() : E2E.get(index % 3 == 1 ? "/api/v1/health" : "/api/v1/version")
        }
        try client.send(burst)
        for index in 0..<30 {
            let response = try client.readResponse(timeout: 5)
            switch index % 3 {
            case 0: #expect(response.status == 404, "request \(index)")
            case 1: #expect(response.json?["status"]?.stringValue == "ok", "request \(index)")
            default: #expect(response.json?["api_version"]?.stringValue == "v1", "request \(index)")
            }
        }
    }

    @Test func halfClosedClient_stillGetsItsDeferredAnswer() throws {
        let server = try E2E.server(insecure: true)
        defer { server.stop() }
        let client = try server.connect()
        try client.send(DeferredResponseTests.deferredPost() + E2E.get("/api/v1/health"))
        shutdown(client.fd, Int32(SHUT_WR))
        #expect(try client.readResponse(timeout: 5).status == 404)
        #expect(try client.readResponse(timeout: 5).status == 200)
        _ = try client.readUntilClose(timeout: 5)
        #expect(client.peerClosed)
    }

    @Test func deferredWithConnectionClose_closesAfterTheAnswer() throws {
        let server = try E2E.server()
        defer { server.stop() }
        let client = try server.connect()
        try client.send(DeferredResponseTests.deferredPost(extra: "Connection: close\r\n") + E2E.get("/api/v1/health"))
        let response = try client.readResponse(timeout: 5)
        #expect(response.status == 404)
        #expect(response.headers["Connection"] == "close")
        #expect(try client.readUntilClose(timeout: 5).isEmpty)
    }

    @Test func headOnAGetRoute_afterADeferredPost_hasNoBody() throws {
        let server = try E2E.server()
        defer { server.stop() }
        let client = try server.connect()
        try client.send(
            DeferredResponseTests.deferredPost() + "HEAD /api/v1/health HTTP/1.1\r\nHost: localhost\r\n\r\n"
                + E2E.get("/api/v1/version"))
        #expect(try client.readResponse(timeout: 5).status == 404)
        let head = try client.readResponse(timeout: 5, isHead: true)
        #expect(head.status == 200 && head.body.isEmpty)
        #expect(try client.readResponse(timeout: 5).json?["name"]?.stringValue == "KITT")
    }
}
