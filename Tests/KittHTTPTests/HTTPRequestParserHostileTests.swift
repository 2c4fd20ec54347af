import Testing

@testable import KittHTTP

/// A request the parser must refuse, one rule per row (picohttpparser's style).
struct HostileCase: Sendable, CustomTestStringConvertible {
    var name: String
    var input: [UInt8]
    var expected: ExpectedError
    var limits = HTTPLimits()

    init(_ name: String, _ input: [UInt8], _ expected: ExpectedError, limits: HTTPLimits = HTTPLimits()) {
        self.name = name
        self.input = input
        self.expected = expected
        self.limits = limits
    }

    init(_ name: String, _ input: String, _ expected: ExpectedError, limits: HTTPLimits = HTTPLimits()) {
        self.init(name, bytes(input), expected, limits: limits)
    }

    var testDescription: String { name }
}

private let head = "GET / HTTP/1.1\r\nHost: a\r\n"
private let post = "POST / HTTP/1.1\r\nHost: a\r\n"
private let chunkedHead = post + "Transfer-Encoding: chunked\r\n\r\n"
private let small = HTTPLimits(maxHeadBytes: 128, maxRequestLineBytes: 32, maxBodyBytes: 10, maxHeaderCount: 3)

let hostileCases: [HostileCase] = [
    // Request line.
    HostileCase("invalid character in method", "GE(T / HTTP/1.1\r\nHost: a\r\n\r\n", .badRequest("in method")),
    HostileCase("empty method", " / HTTP/1.1\r\nHost: a\r\n\r\n", .badRequest("in method")),
    HostileCase("DEL in request target", "GET /a\u{7F}b HTTP/1.1\r\nHost: a\r\n\r\n", .badRequest("control character in request target")),
    HostileCase("NUL in request target", "GET /a\0b HTTP/1.1\r\nHost: a\r\n\r\n", .badRequest("NUL byte in request target")),
    HostileCase("non-ASCII in request target", "GET /café HTTP/1.1\r\nHost: a\r\n\r\n", .badRequest("invalid character in request target")),
    HostileCase("tab in request target", "GET /a\tb HTTP/1.1\r\nHost: a\r\n\r\n", .badRequest("whitespace in request target")),
    HostileCase("space inside request target", "GET /a b HTTP/1.1\r\nHost: a\r\n\r\n", .badRequest("malformed HTTP version")),
    HostileCase("two spaces after method", "GET  / HTTP/1.1\r\nHost: a\r\n\r\n", .badRequest("request target")),
    HostileCase("* with GET", "GET * HTTP/1.1\r\nHost: a\r\n\r\n", .badRequest("only allowed with OPTIONS")),
    HostileCase("relative target", "GET foo HTTP/1.1\r\nHost: a\r\n\r\n", .badRequest("request target must be")),
    HostileCase("authority-form", "CONNECT a.org:443 HTTP/1.1\r\nHost: a\r\n\r\n", .badRequest("request target must be")),
    HostileCase("absolute-form without host", "GET http:///p HTTP/1.1\r\nHost: a\r\n\r\n", .badRequest("request target must be")),
    HostileCase("HTTP/0.9 style request", "GET /\r\n\r\n", .badRequest("no HTTP version")),
    HostileCase("HTTP/0.9 style, method only", "GET\r\n\r\n", .badRequest("no request target")),
    HostileCase("HTTP/2.0", "GET / HTTP/2.0\r\nHost: a\r\n\r\n", .exactly(.versionNotSupported)),
    HostileCase("HTTP/1.2", "GET / HTTP/1.2\r\nHost: a\r\n\r\n", .exactly(.versionNotSupported)),
    HostileCase("HTTP/0.9 spelled out", "GET / HTTP/0.9\r\n\r\n", .exactly(.versionNotSupported)),
    HostileCase("lowercase version", "GET / http/1.1\r\nHost: a\r\n\r\n", .badRequest("malformed HTTP version")),
    HostileCase("version garbage", "GET / HTTP/1.1x\r\nHost: a\r\n\r\n", .badRequest("malformed HTTP version")),
    HostileCase("version without minor", "GET / HTTP/1\r\nHost: a\r\n\r\n", .badRequest("malformed HTTP version")),
    HostileCase("too many empty lines first", String(repeating: "\r\n", count: 9) + head + "\r\n", .badRequest("empty lines")),
    // Line endings.
    HostileCase("bare LF after request line", "GET / HTTP/1.1\nHost: a\r\n\r\n", .badRequest("bare LF")),
    HostileCase("bare LF ending the head", head + "\n", .badRequest("bare LF")),
    HostileCase("bare LF before the request line", "\nGET / HTTP/1.1\r\nHost: a\r\n\r\n", .badRequest("bare LF")),
    HostileCase("bare CR in request target", "GET /\r HTTP/1.1\r\nHost: a\r\n\r\n", .badRequest("bare CR in request target")),
    HostileCase("bare CR in version", "GET / HTTP/1.1\r\r\nHost: a\r\n\r\n", .badRequest("bare CR")),
    HostileCase("bare CR in header value", head + "X: a\rb\r\n\r\n", .badRequest("bare CR in header value")),
    HostileCase("bare CR in header name", head + "X\rY: a\r\n\r\n", .badRequest("bare CR in header name")),
    HostileCase("bare CR as a line end", head + "X: a\rY: b\r\n\r\n", .badRequest("bare CR")),
    // Header fields.
    HostileCase("invalid character in header name", head + "X(y: 1\r\n\r\n", .badRequest("invalid character in header name")),
    HostileCase("non-ASCII header name", head + "Xé: 1\r\n\r\n", .badRequest("invalid character in header name")),
    HostileCase("whitespace before colon", head + "X-Thing : 1\r\n\r\n", .badRequest("whitespace before header colon")),
    HostileCase("tab before colon", "GET / HTTP/1.1\r\nHost\t: a\r\n\r\n", .badRequest("whitespace before header colon")),
    HostileCase("empty header name", head + ": value\r\n\r\n", .badRequest("empty header name")),
    HostileCase("header line without colon", head + "NoColonHere\r\n\r\n", .badRequest("without a colon")),
    HostileCase("obs-fold", head + "X: a\r\n  continued\r\n\r\n", .badRequest("obs-fold")),
    HostileCase("obs-fold with tab", head + "X: a\r\n\tcontinued\r\n\r\n", .badRequest("obs-fold")),
    HostileCase("whitespace before first header", "GET / HTTP/1.1\r\n Host: a\r\n\r\n", .badRequest("obs-fold")),
    HostileCase("NUL in header value", head + "X: a\0b\r\n\r\n", .badRequest("NUL byte in header value")),
    HostileCase("control character in header value", head + "X: a\u{01}b\r\n\r\n", .badRequest("control character in header value")),
    HostileCase("DEL in header value", head + "X: a\u{7F}\r\n\r\n", .badRequest("control character in header value")),
    // Host.
    HostileCase("HTTP/1.1 without Host", "GET / HTTP/1.1\r\nX: 1\r\n\r\n", .badRequest("missing Host")),
    HostileCase("two Host headers", head + "Host: a\r\n\r\n", .badRequest("more than one Host")),
    HostileCase("two Host headers in HTTP/1.0", "GET / HTTP/1.0\r\nHost: a\r\nhost: b\r\n\r\n", .badRequest("more than one Host")),
    HostileCase("Host with a space", "GET / HTTP/1.1\r\nHost: a b\r\n\r\n", .badRequest("malformed Host")),
    HostileCase("Host with a path", "GET / HTTP/1.1\r\nHost: a/b\r\n\r\n", .badRequest("malformed Host")),
    HostileCase("Host with userinfo", "GET / HTTP/1.1\r\nHost: u@a\r\n\r\n", .badRequest("malformed Host")),
    HostileCase("Host with non-numeric port", "GET / HTTP/1.1\r\nHost: a:http\r\n\r\n", .badRequest("malformed Host")),
    HostileCase("Host with port over 65535", "GET / HTTP/1.1\r\nHost: a:65536\r\n\r\n", .badRequest("malformed Host")),
    HostileCase("Host with empty port", "GET / HTTP/1.1\r\nHost: a:\r\n\r\n", .badRequest("malformed Host")),
    HostileCase("Host with only a port", "GET / HTTP/1.1\r\nHost: :80\r\n\r\n", .badRequest("malformed Host")),
    HostileCase("Host with unclosed IPv6", "GET / HTTP/1.1\r\nHost: [::1\r\n\r\n", .badRequest("malformed Host")),
    HostileCase("Host with bad percent escape", "GET / HTTP/1.1\r\nHost: a%zz\r\n\r\n", .badRequest("malformed Host")),
    HostileCase("malformed Host in HTTP/1.0", "GET / HTTP/1.0\r\nHost: a b\r\n\r\n", .badRequest("malformed Host")),
    // Content-Length.
    HostileCase("negative Content-Length", post + "Content-Length: -1\r\n\r\n", .badRequest("invalid Content-Length")),
    HostileCase("Content-Length with plus", post + "Content-Length: +5\r\n\r\nhello", .badRequest("invalid Content-Length")),
    HostileCase("space inside Content-Length", post + "Content-Length: 1 2\r\n\r\n", .badRequest("invalid Content-Length")),
    HostileCase("hex Content-Length", post + "Content-Length: 0x10\r\n\r\n", .badRequest("invalid Content-Length")),
    HostileCase("empty Content-Length", post + "Content-Length:\r\n\r\n", .badRequest("invalid Content-Length")),
    HostileCase("Content-Length trailing comma", post + "Content-Length: 5,\r\n\r\nhello", .badRequest("invalid Content-Length")),
    HostileCase("Content-Length overflow", post + "Content-Length: 99999999999999999999\r\n\r\n", .badRequest("out of range")),
    HostileCase("differing Content-Length list", post + "Content-Length: 5, 6\r\n\r\nhello", .badRequest("conflicting Content-Length")),
    HostileCase("differing repeated Content-Length", post + "Content-Length: 5\r\nContent-Length: 6\r\n\r\nhello", .badRequest("conflicting Content-Length")),
    HostileCase("Content-Length over the body limit", post + "Content-Length: 11\r\n\r\n", .exactly(.payloadTooLarge), limits: small),
    // Transfer-Encoding.
    HostileCase("Content-Length and Transfer-Encoding", post + "Content-Length: 5\r\nTransfer-Encoding: chunked\r\n\r\n0\r\n\r\n", .badRequest("both Content-Length and Transfer-Encoding")),
    HostileCase("Transfer-Encoding then Content-Length", post + "Transfer-Encoding: chunked\r\nContent-Length: 0\r\n\r\n0\r\n\r\n", .badRequest("both Content-Length and Transfer-Encoding")),
    HostileCase("gzip", post + "Transfer-Encoding: gzip\r\n\r\n", .unsupportedTransferCoding("'gzip'")),
    HostileCase("gzip, chunked", post + "Transfer-Encoding: gzip, chunked\r\n\r\n", .unsupportedTransferCoding("'gzip'")),
    HostileCase("chunked, identity", post + "Transfer-Encoding: chunked\r\nTransfer-Encoding: identity\r\n\r\n", .unsupportedTransferCoding("'identity'")),
    HostileCase("chunked with parameters", post + "Transfer-Encoding: chunked;q=1\r\n\r\n", .unsupportedTransferCoding("chunked;q=1")),
    HostileCase("chunked twice", post + "Transfer-Encoding: chunked, chunked\r\n\r\n", .badRequest("more than once")),
    HostileCase("empty Transfer-Encoding", post + "Transfer-Encoding: , \r\n\r\n", .badRequest("empty Transfer-Encoding")),
    HostileCase("Transfer-Encoding in HTTP/1.0", "POST / HTTP/1.0\r\nTransfer-Encoding: chunked\r\n\r\n0\r\n\r\n", .badRequest("HTTP/1.0")),
    // Chunked bodies.
    HostileCase("chunk size not hex", chunkedHead + "zz\r\n", .badRequest("invalid chunk size")),
    HostileCase("negative chunk size", chunkedHead + "-5\r\nhello\r\n0\r\n\r\n", .badRequest("invalid chunk size")),
    HostileCase("chunk size with junk after it", chunkedHead + "5 x\r\nhello\r\n0\r\n\r\n", .badRequest("invalid chunk size")),
    HostileCase("empty chunk size line", chunkedHead + "\r\n", .badRequest("invalid chunk size")),
    HostileCase("chunk data without CRLF", chunkedHead + "5\r\nhelloX\r\n0\r\n\r\n", .badRequest("not followed by CRLF")),
    HostileCase("chunk data with bare LF", chunkedHead + "5\r\nhello\n0\r\n\r\n", .badRequest("not followed by CRLF")),
    HostileCase("chunk size line with bare LF", chunkedHead + "5\nhello\r\n", .badRequest("bare LF")),
    HostileCase("chunk extension with control character", chunkedHead + "5;a=\u{01}\r\nhello\r\n", .badRequest("chunk extension")),
    HostileCase("chunk size overflow", chunkedHead + "FFFFFFFFFFFFFFFFFFFFFFFFFFFF\r\n", .exactly(.payloadTooLarge)),
    HostileCase("one chunk over the body limit", chunkedHead + "B\r\n", .exactly(.payloadTooLarge), limits: small),
    HostileCase("chunks adding up over the body limit", chunkedHead + "6\r\nhello \r\n5\r\n", .exactly(.payloadTooLarge), limits: small),
    HostileCase("chunk size line too long", chunkedHead + "5;" + String(repeating: "x", count: 5000), .badRequest("chunk size line too long")),
    HostileCase("trailer with obs-fold", chunkedHead + "0\r\nX: a\r\n b\r\n\r\n", .badRequest("obs-fold")),
    HostileCase("trailer with bare LF", chunkedHead + "0\r\nX: a\n\r\n", .badRequest("bare LF")),
    HostileCase("trailer without colon", chunkedHead + "0\r\nnonsense\r\n\r\n", .badRequest("without a colon")),
    HostileCase("trailers over what the head left", chunkedHead + "0\r\nX: " + String(repeating: "t", count: 80) + "\r\n\r\n", .exactly(.headersTooLarge), limits: small),
    // Sizes.
    HostileCase("request line too long", "GET /" + String(repeating: "a", count: 40) + " HTTP/1.1\r\nHost: a\r\n\r\n", .exactly(.uriTooLong), limits: small),
    HostileCase("request line too long, no CRLF yet", "GET /" + String(repeating: "a", count: 40), .exactly(.uriTooLong), limits: small),
    HostileCase("head too long, no end yet", "GET / HTTP/1.1\r\nHost: a\r\nX: " + String(repeating: "h", count: 120), .exactly(.headersTooLarge), limits: small),
    HostileCase("too many headers", head + "A: 1\r\nB: 2\r\nC: 3\r\n\r\n", .exactly(.headersTooLarge), limits: small),
]

@Suite("Parser refuses hostile requests")
struct HTTPRequestParserHostileTests {
    @Test(arguments: hostileCases)
    func refusesAtOnceAndByteByByte(_ row: HostileCase) {
        let atOnce = parse(row.input, limits: row.limits)
        let byteByByte = parse(row.input, chunkSize: 1, limits: row.limits)
        #expect(row.expected.matches(atOnce.error), "expected \(row.expected), got \(atOnce)")
        #expect(atOnce.sameResult(as: byteByByte), "at once: \(atOnce)\nbyte by byte: \(byteByByte)")
        #expect(atOnce.requests.isEmpty)
    }

    @Test("an error is final: next() throws it again and append is ignored")
    func errorIsSticky() {
        var parser = HTTPRequestParser()
        parser.append(bytes("GET / HTTP/1.1\nHost: a\r\n\r\n"))
        #expect(throws: HTTPParseError.self) { _ = try parser.next() }
        parser.append(bytes("GET / HTTP/1.1\r\nHost: a\r\n\r\n"))
        #expect(throws: HTTPParseError.badRequest("bare LF line ending (lines must end with CRLF)")) {
            _ = try parser.next()
        }
    }

    @Test("each error maps to its status and a sentence")
    func statusesAndMessages() {
        let table: [(HTTPParseError, Int)] = [
            (.badRequest("whitespace before header colon"), 400), (.uriTooLong, 414), (.headersTooLarge, 431),
            (.payloadTooLarge, 413), (.unsupportedTransferCoding("unsupported transfer coding 'gzip'"), 501),
            (.versionNotSupported, 505),
        ]
        for (error, code) in table {
            #expect(error.status.code == code)
            #expect(!error.message.isEmpty)
        }
        #expect(HTTPParseError.badRequest("whitespace before header colon").message == "whitespace before header colon")
    }
}
