import Testing

@testable import KittHTTP

/// A request the parser must accept, and what it must make of it.
struct ValidCase: Sendable, CustomTestStringConvertible {
    var name: String
    var input: [UInt8]
    var method = "GET"
    var target = "/"
    var version = HTTPVersion.http11
    var body = ""
    var path: String? = nil
    var query: [String: String] = [:]
    var headers: [String: String] = [:]
    var absentHeaders: [String] = []
    var headerCount: Int? = nil
    /// Byte by byte, the body is never there when the head ends: one `.expectContinue`.
    var expectContinueByteByByte = false

    var testDescription: String { name }
}

let validCases: [ValidCase] = [
    ValidCase(
        name: "GET with query",
        input: bytes("GET /api/v1/results?model=llama%203&limit=5 HTTP/1.1\r\nHost: localhost:8080\r\nAccept: */*\r\n\r\n"),
        target: "/api/v1/results?model=llama%203&limit=5", path: "/api/v1/results",
        query: ["model": "llama 3", "limit": "5"], headers: ["host": "localhost:8080", "Accept": "*/*"], headerCount: 2),
    ValidCase(
        name: "POST with Content-Length body",
        input: bytes("POST /api/v1/results HTTP/1.1\r\nHost: a\r\nContent-Type: application/json\r\nContent-Length: 13\r\n\r\n{\"a\": [1, 2]}"),
        method: "POST", target: "/api/v1/results", body: "{\"a\": [1, 2]}", headers: ["Content-Length": "13"]),
    ValidCase(
        name: "chunked with extensions and trailers",
        input: bytes(
            "POST /up HTTP/1.1\r\nHost: a\r\nTransfer-Encoding: chunked\r\n\r\n"
                + "5;name=value\r\nhello\r\n6 ; x=\"y\"\r\n world\r\n000A\r\n0123456789\r\n0;last\r\nX-Checksum: abc\r\nX-Other: 1\r\n\r\n"),
        method: "POST", target: "/up", body: "hello world0123456789", headers: ["Transfer-Encoding": "chunked"],
        absentHeaders: ["X-Checksum", "X-Other"], headerCount: 2),
    ValidCase(
        name: "chunked, coding name in any case, empty body",
        input: bytes("PUT /x HTTP/1.1\r\nHost: a\r\nTransfer-Encoding: ChUnKeD\r\n\r\n0\r\n\r\n"),
        method: "PUT", target: "/x"),
    ValidCase(
        name: "absolute-form target",
        input: bytes("GET http://example.org:8080/p/q?x=1 HTTP/1.1\r\nHost: example.org:8080\r\n\r\n"),
        target: "http://example.org:8080/p/q?x=1", path: "/p/q", query: ["x": "1"]),
    ValidCase(
        name: "HTTP/1.0 without Host",
        input: bytes("GET /legacy HTTP/1.0\r\nConnection: keep-alive\r\n\r\n"),
        target: "/legacy", version: .http10, absentHeaders: ["Host"]),
    ValidCase(
        name: "obs-text header value decoded as UTF-8 with replacement",
        input: bytes("GET / HTTP/1.1\r\nHost: a\r\nX-Name: caf") + [0xC3, 0xA9, 0x20, 0xFF] + bytes("\r\n\r\n"),
        headers: ["x-name": "café \u{FFFD}"]),
    ValidCase(
        name: "Expect: 100-continue with a Content-Length body",
        input: bytes("PUT /x HTTP/1.1\r\nHost: a\r\nExpect: 100-continue\r\nContent-Length: 4\r\n\r\nbody"),
        method: "PUT", target: "/x", body: "body", expectContinueByteByByte: true),
    ValidCase(
        name: "Expect: 100-continue with a chunked body",
        input: bytes("POST /x HTTP/1.1\r\nHost: a\r\nexpect: 100-Continue\r\nTransfer-Encoding: chunked\r\n\r\n2\r\nok\r\n0\r\n\r\n"),
        method: "POST", target: "/x", body: "ok", expectContinueByteByByte: true),
    ValidCase(
        name: "Expect: 100-continue without a body gives no 100",
        input: bytes("POST /x HTTP/1.1\r\nHost: a\r\nExpect: 100-continue\r\nContent-Length: 0\r\n\r\n"),
        method: "POST", target: "/x"),
    ValidCase(
        name: "Expect: 100-continue is ignored in HTTP/1.0",
        input: bytes("POST /x HTTP/1.0\r\nExpect: 100-continue\r\nContent-Length: 2\r\n\r\nhi"),
        method: "POST", target: "/x", version: .http10, body: "hi"),
    ValidCase(
        name: "OPTIONS *",
        input: bytes("OPTIONS * HTTP/1.1\r\nHost: a\r\n\r\n"), method: "OPTIONS", target: "*"),
    ValidCase(
        name: "empty lines before the request line are skipped",
        input: bytes("\r\n\r\nGET /after HTTP/1.1\r\nHost: a\r\n\r\n"), target: "/after"),
    ValidCase(
        name: "OWS around values trimmed, inner whitespace kept",
        input: bytes("GET / HTTP/1.1\r\nHost:a\r\nX-A: \t a \t b \t\r\nX-Empty:\r\nX-Spaces:   \r\n\r\n"),
        headers: ["X-A": "a \t b", "X-Empty": "", "X-Spaces": ""]),
    ValidCase(
        name: "identical Content-Lengths, repeated and listed",
        input: bytes("POST / HTTP/1.1\r\nHost: a\r\nContent-Length: 3, 3\r\nContent-Length: 003\r\n\r\nabc"),
        method: "POST", body: "abc"),
    ValidCase(
        name: "Host forms: IPv6 with port",
        input: bytes("GET / HTTP/1.1\r\nHost: [::1]:8443\r\n\r\n"), headers: ["Host": "[::1]:8443"]),
    ValidCase(
        name: "Host forms: IPv4, percent-encoding, sub-delims",
        input: bytes("GET / HTTP/1.1\r\nHost: my%2Dhost.ex-ample_~!$&'()*+,;=.org\r\n\r\n")),
    ValidCase(
        name: "empty Host (RFC 9112 §3.2: no authority)",
        input: bytes("GET / HTTP/1.1\r\nHost:\r\n\r\n"), headers: ["Host": ""]),
    ValidCase(
        name: "method kept as sent, token characters allowed",
        input: bytes("M-SEARCH! /x HTTP/1.1\r\nHost: a\r\n\r\n"), method: "M-SEARCH!", target: "/x"),
    ValidCase(
        name: "header names keep their case, look up without it",
        input: bytes("GET / HTTP/1.1\r\nhOsT: a\r\nX-Custom-Thing: 1\r\n\r\n"), headers: ["HOST": "a", "x-custom-thing": "1"]),
]

@Suite("Parser accepts valid requests")
struct HTTPRequestParserValidTests {
    @Test(arguments: validCases)
    func parsesAtOnceAndByteByByte(_ row: ValidCase) {
        let atOnce = parse(row.input)
        let byteByByte = parse(row.input, chunkSize: 1)
        #expect(atOnce.sameResult(as: byteByByte), "at once: \(atOnce)\nbyte by byte: \(byteByByte)")
        #expect(atOnce.error == nil)
        #expect(byteByByte.error == nil)
        #expect(atOnce.requests.count == 1)
        #expect(atOnce.continues.isEmpty, "the whole body was there: no 100 Continue needed")
        #expect(byteByByte.continues == (row.expectContinueByteByByte ? [0] : []))

        guard let parsed = byteByByte.requests.first else { return }
        #expect(parsed.method == row.method)
        #expect(parsed.target == row.target)
        #expect(parsed.version == row.version)
        #expect(parsed.body == bytes(row.body))
        if let path = row.path { #expect(parsed.request.path == path) }
        for (name, value) in row.query { #expect(parsed.request.queryValue(name) == value) }
        for (name, value) in row.headers { #expect(parsed.request.headers[name] == value, "header \(name)") }
        for name in row.absentHeaders { #expect(parsed.request.headers[name] == nil, "header \(name)") }
        if let count = row.headerCount { #expect(parsed.headers.count == count) }
    }
}
