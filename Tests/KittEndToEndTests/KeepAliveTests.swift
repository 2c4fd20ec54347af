import KittJSON
import KittTestSupport
import Testing

/// Persistent connections, pipelining and HTTP/1.0 (SPEC §2).
@Suite(.serialized) struct KeepAliveTests {
    @Test func keepAlive_threeSequentialRequestsOnOneConnection() throws {
        let server = try E2E.server()
        defer { server.stop() }
        let client = try server.connect()
        for path in ["/api/v1/health", "/api/v1/version", "/api/health"] {
            try client.send(E2E.get(path))
            let response = try client.readResponse()
            #expect(response.status == 200, "\(path)")
            #expect(response.headers["Connection"]?.lowercased() != "close")
        }
        #expect(!client.peerClosed)
    }

    @Test func pipelining_threeRequestsInOneWriteAnsweredInOrder() throws {
        let server = try E2E.server()
        defer { server.stop() }
        let client = try server.connect()
        try client.send(E2E.get("/api/v1/version") + E2E.get("/api/v1/no-such") + E2E.get("/api/v1/health"))
        let first = try client.readResponse()
        let second = try client.readResponse()
        let third = try client.readResponse()
        #expect(first.status == 200)
        #expect(first.json?["api_version"]?.stringValue == "v1")
        #expect(second.status == 404)
        #expect(third.status == 200)
        #expect(third.json == .object(["status": "ok"]))
    }

    @Test func pipelining_plainHTTPByteAtATime() throws {
        let server = try E2E.server(insecure: true)
        defer { server.stop() }
        let client = try server.connect()
        let bytes = Array((E2E.get("/api/v1/health") + E2E.get("/api/v1/version")).utf8)
        for byte in bytes { try client.send([byte]) }
        #expect(try client.readResponse().status == 200)
        #expect(try client.readResponse().json?["name"]?.stringValue == "KITT")
    }

    @Test func http10_getsConnectionClose() throws {
        let server = try E2E.server()
        defer { server.stop() }
        let client = try server.connect()
        try client.send("GET /api/v1/health HTTP/1.0\r\n\r\n")
        let response = try client.readResponse()
        #expect(response.status == 200)
        #expect(response.headers["Connection"]?.lowercased() == "close")
        #expect(try client.readUntilClose(timeout: 5).isEmpty)
        #expect(client.peerClosed)
    }

    @Test func http10_keepAliveWhenAsked() throws {
        let server = try E2E.server()
        defer { server.stop() }
        let client = try server.connect()
        for _ in 0..<2 {
            try client.send("GET /api/v1/health HTTP/1.0\r\nConnection: keep-alive\r\n\r\n")
            let response = try client.readResponse()
            #expect(response.status == 200)
            #expect(response.headers["Connection"]?.lowercased() == "keep-alive")
        }
        #expect(!client.peerClosed)
    }

    @Test func connectionClose_closesAfterTheResponse() throws {
        let server = try E2E.server()
        defer { server.stop() }
        let client = try server.connect()
        try client.send(E2E.get("/api/v1/health", extra: "Connection: close\r\n"))
        let response = try client.readResponse()
        #expect(response.status == 200)
        #expect(response.headers["Connection"]?.lowercased() == "close")
        _ = try client.readUntilClose(timeout: 5)
        #expect(client.peerClosed)
    }
}
