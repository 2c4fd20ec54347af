import Foundation
import KittJSON
import KittTestSupport
import Testing

/// Request bodies and size limits through the socket (SPEC §2). No route takes a body yet,
/// so bodies go to POST /api/v1/health (405) and a following request on the same connection
/// proves the body was framed and consumed exactly.
@Suite(.serialized) struct BodyTests {
    static let post = "POST /api/v1/health HTTP/1.1\r\nHost: localhost\r\n"

    @Test func contentLengthBody_isConsumedAndConnectionStaysUsable() throws {
        let server = try E2E.server()
        defer { server.stop() }
        let client = try server.connect()
        let body = #"{"a": "GET /api/v1/version HTTP/1.1\r\n\r\n"}"#
        try client.send(
            BodyTests.post + "Content-Length: \(body.utf8.count)\r\n\r\n" + body + E2E.get("/api/v1/health"))
        let first = try client.readResponse()
        #expect(first.status == 405)
        let second = try client.readResponse()
        #expect(second.status == 200)
        #expect(second.json == .object(["status": "ok"]))
    }

    @Test func chunkedBody_isConsumedAndConnectionStaysUsable() throws {
        let server = try E2E.server()
        defer { server.stop() }
        let client = try server.connect()
        let chunks = "5\r\nhello\r\n6;ext=1\r\n world\r\n0\r\nX-Trailer: t\r\n\r\n"
        try client.send(BodyTests.post + "Transfer-Encoding: chunked\r\n\r\n" + chunks + E2E.get("/api/v1/health"))
        #expect(try client.readResponse().status == 405)
        let second = try client.readResponse()
        #expect(second.status == 200)
        #expect(second.json == .object(["status": "ok"]))
    }

    @Test func expectContinue_gets100BeforeTheFinalResponse() throws {
        let server = try E2E.server()
        defer { server.stop() }
        let client = try server.connect()
        let body = String(repeating: "x", count: 2048)
        try client.send(BodyTests.post + "Content-Length: \(body.utf8.count)\r\nExpect: 100-continue\r\n\r\n")
        let interim = try client.readUntil("\r\n\r\n", timeout: 5)
        #expect(interim == "HTTP/1.1 100 Continue\r\n\r\n")
        let continued = try client.readResponse()
        #expect(continued.status == 100)
        try client.send(body)
        let final = try client.readResponse()
        #expect(final.status == 405)
        try client.send(E2E.get("/api/v1/health"))
        #expect(try client.readResponse().status == 200)
    }

    @Test func hugeContentLength_gets413PromptlyWithoutSendingTheBody() throws {
        let server = try E2E.server()
        defer { server.stop() }
        let client = try server.connect()
        let start = ContinuousClock.now
        try client.send(BodyTests.post + "Content-Length: 100000000\r\n\r\n")
        let response = try client.readResponse(timeout: 5)
        #expect(response.status == 413)
        #expect(response.headers["Content-Type"] == "application/json")
        #expect(response.errorMessage?.isEmpty == false)
        #expect(E2E.elapsed(since: start) < 2)
        _ = try client.readUntilClose(timeout: 5)
        #expect(client.peerClosed)
    }

    @Test func hugeContentLengthWithExpect_gets413Instead0f100() throws {
        let server = try E2E.server()
        defer { server.stop() }
        let client = try server.connect()
        try client.send(BodyTests.post + "Content-Length: 100000000\r\nExpect: 100-continue\r\n\r\n")
        let response = try client.readResponse(timeout: 5)
        #expect(response.status == 413)
        _ = try client.readUntilClose(timeout: 5)
        #expect(client.peerClosed)
    }

    @Test func bodyAtTheLimitIsAccepted_oneMoreByteIs413() throws {
        let server = try E2E.server { $0.maxBodyBytes = 4096 }
        defer { server.stop() }
        let atLimit = try server.request("POST", "/api/v1/health", body: [UInt8](repeating: 0x61, count: 4096))
        #expect(atLimit.status == 405)
        let over = try server.request("POST", "/api/v1/health", body: [UInt8](repeating: 0x61, count: 4097))
        #expect(over.status == 413)
    }

    @Test func chunkedBodyOverTheLimit_gets413() throws {
        let server = try E2E.server { $0.maxBodyBytes = 4096 }
        defer { server.stop() }
        let client = try server.connect()
        let chunk = String(repeating: "b", count: 3000)
        try client.send(BodyTests.post + "Transfer-Encoding: chunked\r\n\r\nBB8\r\n\(chunk)\r\nBB8\r\n\(chunk)\r\n")
        let response = try client.readResponse(timeout: 5)
        #expect(response.status == 413)
        _ = try client.readUntilClose(timeout: 5)
        #expect(client.peerClosed)
    }

    @Test func seventeenKiBOfHeaders_gets431() throws {
        let server = try E2E.server()
        defer { server.stop() }
        let client = try server.connect()
        let filler = String(repeating: "h", count: 1000)
        var head = "GET /api/v1/health HTTP/1.1\r\nHost: localhost\r\n"
        for index in 0..<17 { head += "X-Fill-\(index): \(filler)\r\n" }
        try client.send(head + "\r\n")
        let response = try client.readResponse(timeout: 5)
        #expect(response.status == 431)
        #expect(response.headers["Content-Type"] == "application/json")
        _ = try client.readUntilClose(timeout: 5)
        #expect(client.peerClosed)
    }

    @Test func hugeRequestLine_gets414Or431() throws {
        let server = try E2E.server()
        defer { server.stop() }
        let client = try server.connect()
        try client.send("GET /" + String(repeating: "a", count: 20 * 1024) + " HTTP/1.1\r\nHost: localhost\r\n\r\n")
        let response = try client.readResponse(timeout: 5)
        #expect(response.status == 414 || response.status == 431)
        #expect(response.errorMessage?.isEmpty == false)
        _ = try client.readUntilClose(timeout: 5)
        #expect(client.peerClosed)
    }

    @Test func bodyAtTheDefault8MiBLimit_overTLS_isReadCompletely() throws {
        let server = try E2E.server()
        defer { server.stop() }
        let client = try server.connect()
        let size = 8 * 1024 * 1024
        try client.send(BodyTests.post + "Content-Length: \(size)\r\n\r\n")
        try client.send([UInt8](repeating: 0x62, count: size), timeout: 30)
        try client.send(E2E.get("/api/v1/health"))
        #expect(try client.readResponse(timeout: 10).status == 405)
        #expect(try client.readResponse(timeout: 10).status == 200)
    }

    @Test func largePipelinedBurst_overTLS_isAnsweredCompletelyInOrder() throws {
        let server = try E2E.server()
        defer { server.stop() }
        let client = try server.connect()
        let padding = "X-Padding: " + String(repeating: "p", count: 400) + "\r\n"
        var burst = ""
        let count = 2000
        for index in 0..<count {
            let path = index % 2 == 0 ? "/api/v1/health" : "/api/v1/version"
            burst += E2E.get(path, extra: padding + (index == count - 1 ? "Connection: close\r\n" : ""))
        }
        try client.send(burst, timeout: 30)
        let text = String(decoding: try client.readUntilClose(timeout: 30), as: UTF8.self)
        let statuses = text.components(separatedBy: "HTTP/1.1 200 OK\r\n").count - 1
        #expect(statuses == count)
        let health = text.components(separatedBy: #"{"status":"ok"}"#).count - 1
        #expect(health == count / 2)
        #expect(text.hasSuffix(#""name":"KITT"}"#), "\(text.suffix(200))")
    }
}
