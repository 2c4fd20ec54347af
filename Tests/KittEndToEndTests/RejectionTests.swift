import KittJSON
import KittTestSupport
import Testing

/// RFC 9112 rejections through the TLS socket: each gets a JSON error with the status SPEC §2
/// names, and the connection is closed (a request after it in the same write is not answered).
@Suite(.serialized) struct RejectionTests {
    /// Sends `head` followed by a valid request; expects one JSON error, then the close.
    func expectRejected(
        _ head: String, status: Int, sourceLocation: SourceLocation = #_sourceLocation
    ) throws {
        let server = try E2E.server()
        defer { server.stop() }
        let client = try server.connect()
        try client.send(head + E2E.get("/api/v1/health"))
        let response = try client.readResponse(timeout: 5)
        #expect(response.status == status, sourceLocation: sourceLocation)
        #expect(response.headers["Content-Type"] == "application/json", sourceLocation: sourceLocation)
        #expect(response.errorMessage?.isEmpty == false, "\(response)", sourceLocation: sourceLocation)
        #expect(response.headers["Connection"]?.lowercased() == "close", sourceLocation: sourceLocation)
        let rest = try client.readUntilClose(timeout: 5)
        #expect(
            rest.isEmpty, "answered after the error: \(String(decoding: rest, as: UTF8.self))",
            sourceLocation: sourceLocation)
        #expect(client.peerClosed, sourceLocation: sourceLocation)
    }

    static let post = "POST /api/v1/health HTTP/1.1\r\nHost: localhost\r\n"

    @Test func contentLengthWithTransferEncoding_is400() throws {
        try expectRejected(
            RejectionTests.post + "Content-Length: 5\r\nTransfer-Encoding: chunked\r\n\r\n0\r\n\r\n", status: 400)
    }

    @Test func differingContentLengths_are400() throws {
        try expectRejected(RejectionTests.post + "Content-Length: 3\r\nContent-Length: 4\r\n\r\nabcd", status: 400)
    }

    @Test func unknownTransferCoding_is501() throws {
        try expectRejected(RejectionTests.post + "Transfer-Encoding: gzip, chunked\r\n\r\n0\r\n\r\n", status: 501)
    }

    @Test func spaceBeforeColon_is400() throws {
        try expectRejected("GET /api/v1/health HTTP/1.1\r\nHost: localhost\r\nX-Bad : 1\r\n\r\n", status: 400)
    }

    @Test func obsFold_is400() throws {
        try expectRejected("GET /api/v1/health HTTP/1.1\r\nHost: localhost\r\nX-Long: a\r\n  b\r\n\r\n", status: 400)
    }

    @Test func missingHostInHTTP11_is400() throws {
        try expectRejected("GET /api/v1/health HTTP/1.1\r\n\r\n", status: 400)
    }

    @Test func duplicateHost_is400() throws {
        try expectRejected("GET /api/v1/health HTTP/1.1\r\nHost: localhost\r\nHost: other\r\n\r\n", status: 400)
    }

    @Test func bareCR_is400() throws {
        try expectRejected("GET /api/v1/health HTTP/1.1\r\nHost: localhost\rX-Y: z\r\n\r\n", status: 400)
    }

    @Test func bareLF_is400() throws {
        try expectRejected("GET /api/v1/health HTTP/1.1\nHost: localhost\n\n", status: 400)
    }

    @Test func controlCharacterInTarget_is400() throws {
        try expectRejected("GET /api/v1/\u{01}health HTTP/1.1\r\nHost: localhost\r\n\r\n", status: 400)
    }

    @Test func nonASCIIInTarget_is400() throws {
        try expectRejected("GET /api/v1/h\u{e9}alth HTTP/1.1\r\nHost: localhost\r\n\r\n", status: 400)
    }

    @Test func unsupportedHTTPVersion_is505() throws {
        try expectRejected("GET /api/v1/health HTTP/2.0\r\nHost: localhost\r\n\r\n", status: 505)
    }

    @Test func http09RequestLine_is400() throws {
        try expectRejected("GET /api/v1/health\r\n\r\n", status: 400)
    }

    @Test func malformedContentLength_is400() throws {
        try expectRejected(RejectionTests.post + "Content-Length: +5\r\n\r\nabcde", status: 400)
    }

    @Test func badChunkSize_is400() throws {
        try expectRejected(
            RejectionTests.post + "Transfer-Encoding: chunked\r\n\r\nzz\r\nabc\r\n0\r\n\r\n", status: 400)
    }
}
