import Testing

@testable import KittHTTP

/// What one feeding of the response parser produced; must not depend on how input was split.
struct ResponseOutcome: Equatable, CustomStringConvertible {
    var status: Int?
    var headers: [HTTPHeaders.Field] = []
    var body: [UInt8] = []
    var after: [UInt8] = []
    var error: HTTPResponseParser.Failure?

    var description: String {
        "status \(String(describing: status)), \(headers.count) headers, body \(String(decoding: body, as: UTF8.self).debugDescription), "
            + "after \(after.count) bytes, error \(String(describing: error))"
    }

    /// Feeds `input` in pieces of `split` bytes (or of the sizes in `splits`, cycled); after the
    /// last piece, a still incomplete response is finished with `peerClosed: closed`.
    static func run(
        _ input: [UInt8], splits: [Int], closed: Bool, maxBytes: Int = 1 << 20, maxHeadBytes: Int = 1024,
        isHead: Bool = false
    ) -> ResponseOutcome {
        var parser = HTTPResponseParser(maxBytes: maxBytes, maxHeadBytes: maxHeadBytes, isHeadRequest: isHead)
        var outcome = ResponseOutcome()
        do {
            var offset = 0
            var piece = 0
            while offset < input.count {
                let end = offset + min(splits[piece % splits.count], input.count - offset)
                piece += 1
                try parser.append(Array(input[offset..<end]))
                offset = end
            }
            if let response = try parser.complete(peerClosed: closed) {
                outcome.status = response.status
                outcome.headers = Array(response.headers)
                outcome.body = response.body
                outcome.after = parser.bytesAfterResponse
            }
        } catch {
            outcome.error = error
        }
        return outcome
    }
}

struct ResponseCase: Sendable, CustomTestStringConvertible {
    var name: String
    var input: [UInt8]
    var closed = false
    var isHead = false
    var maxBytes = 1 << 20
    var status: Int?
    var body: String = ""
    var after: String = ""
    var error: HTTPResponseParser.Failure?
    var testDescription: String { name }
}

private func ok(
    _ name: String, _ input: String, closed: Bool = false, isHead: Bool = false, status: Int = 200, body: String = "",
    after: String = ""
) -> ResponseCase {
    ResponseCase(name: name, input: Array(input.utf8), closed: closed, isHead: isHead, status: status, body: body, after: after)
}

private func bad(
    _ name: String, _ input: String, closed: Bool = false, maxBytes: Int = 1 << 20, _ error: HTTPResponseParser.Failure
) -> ResponseCase {
    ResponseCase(name: name, input: Array(input.utf8), closed: closed, maxBytes: maxBytes, error: error)
}

private let okHead = "HTTP/1.1 200 OK\r\n"
private let chunkedHead = okHead + "Transfer-Encoding: chunked\r\n\r\n"

let responseCases: [ResponseCase] = [
    ok("content-length body", okHead + "Content-Length: 5\r\n\r\nhello", body: "hello"),
    ok("empty content-length", okHead + "Content-Length: 0\r\n\r\n"),
    ok("chunked with extension and trailer", chunkedHead + "5\r\nhello\r\n7;ext=1\r\n, world\r\n0\r\nX-T: 1\r\n\r\n",
       body: "hello, world"),
    ok("chunk size with whitespace and upper-case hex", chunkedHead + " A \r\n0123456789\r\n0\r\n\r\n", body: "0123456789"),
    ok("body until close", okHead + "\r\nstream", closed: true, body: "stream"),
    ok("204 has no body; the next response stays", "HTTP/1.1 204 No Content\r\n\r\nHTTP/1.1 200 OK\r\n", status: 204,
       after: "HTTP/1.1 200 OK\r\n"),
    ok("HEAD ignores Content-Length", okHead + "Content-Length: 5\r\n\r\n", isHead: true),
    ok("pipelined after content-length", okHead + "Content-Length: 2\r\n\r\nhiHTTP/1.1", body: "hi", after: "HTTP/1.1"),
    ok("pipelined after chunked", chunkedHead + "2\r\nhi\r\n0\r\n\r\nHTTP", body: "hi", after: "HTTP"),
    ok("CR inside the head does not end it", okHead + "X: a\rb\r\r\nContent-Length: 1\r\n\r\n!", body: "!"),
    ok("404 with a body", "HTTP/1.0 404 Not Found\r\nContent-Length: 4\r\n\r\nnope", status: 404, body: "nope"),

    bad("not HTTP/1.x", "HTTP/2 200 OK\r\n\r\n", .malformed("bad status line")),
    bad("status not a number", "HTTP/1.1 2x0 OK\r\n\r\n", .malformed("bad status line")),
    bad("header line without colon", okHead + "NoColon\r\n\r\n", .malformed("bad header line")),
    bad("negative Content-Length", okHead + "Content-Length: -1\r\n\r\n", .malformed("bad Content-Length")),
    bad("Content-Length beyond the limit", okHead + "Content-Length: 2000\r\n\r\n", maxBytes: 1000, .tooLarge),
    bad("head beyond the limit", okHead + "X: " + String(repeating: "a", count: 2000), .tooLarge),
    bad("chunk size not hex", chunkedHead + "zz\r\n", .malformed("bad chunk size")),
    bad("chunk size with a sign", chunkedHead + "+5\r\nhello\r\n0\r\n\r\n", .malformed("bad chunk size")),
    bad("chunk size past the limit", chunkedHead + "ffffffffffffffffffffffff\r\n", .tooLarge),
    bad("chunk without its CRLF", chunkedHead + "5\r\nhelloX\r\n", .malformed("chunk without its CRLF")),
    bad("chunk size line with bare LF", chunkedHead + "5\nhello\r\n", .malformed("bad chunk size")),
    bad("chunk extension too long", chunkedHead + "5;" + String(repeating: "e", count: 5000) + "\r\n", .tooLarge),
    bad("trailer line too long", chunkedHead + "0\r\nX: " + String(repeating: "t", count: 5000) + "\r\n\r\n", .tooLarge),
    bad("chunked body over the limit", chunkedHead + "800\r\n" + String(repeating: "b", count: 2048), maxBytes: 1000,
        .tooLarge),
    bad("until-close body over the limit", okHead + "\r\n" + String(repeating: "b", count: 2000), maxBytes: 1000, .tooLarge),
    bad("closed before the head", "HTTP/1.1 200", closed: true, .malformed("connection closed before the response head")),
    bad("closed inside content-length body", okHead + "Content-Length: 5\r\n\r\nhel", closed: true,
        .malformed("connection closed before the body ended")),
    bad("closed inside chunked body", chunkedHead + "5\r\nhel", closed: true,
        .malformed("connection closed inside a chunked body")),
]

@Suite struct HTTPResponseParserTests {
    @Test(arguments: responseCases)
    func sameOutcomeAtOnceByteByByteAndInOddSplits(_ c: ResponseCase) {
        let whole = ResponseOutcome.run(c.input, splits: [c.input.count], closed: c.closed, maxBytes: c.maxBytes, isHead: c.isHead)
        #expect(whole.error == c.error, "\(whole)")
        if c.error == nil {
            #expect(whole.status == c.status)
            #expect(String(decoding: whole.body, as: UTF8.self) == c.body)
            #expect(String(decoding: whole.after, as: UTF8.self) == c.after)
        }
        for splits in [[1], [2], [3, 1, 7], [13]] {
            let split = ResponseOutcome.run(c.input, splits: splits, closed: c.closed, maxBytes: c.maxBytes, isHead: c.isHead)
            #expect(split == whole, "splits \(splits): \(split)")
        }
    }

    @Test func headersAreTrimmedAndKeptInOrder() throws {
        var parser = HTTPResponseParser()
        try parser.append(Array((okHead + "A:  1 \r\nB:\t2\r\nA: 3\r\nContent-Length: 0\r\n\r\n").utf8))
        let head = try #require(try parser.parsedHead())
        #expect(head.reason == "OK")
        #expect(head.headers.values(for: "a") == ["1", "3"])
        #expect(head.headers["B"] == "2")
    }

    @Test func aStreamingReaderTakesTheDecodedBodyAsItComes() throws {
        var parser = HTTPResponseParser(maxBytes: 64)
        try parser.append(Array(chunkedHead.utf8))
        var taken: [UInt8] = []
        // 100 chunks of 10 bytes: far more than maxBytes in all, but never more than 10 held.
        for _ in 0..<100 {
            try parser.append(Array("a\r\n0123456789\r\n".utf8))
            taken += parser.takeBody()
            #expect(!parser.isBodyComplete)
        }
        try parser.append(Array("0\r\n\r\n".utf8))
        #expect(parser.isBodyComplete)
        #expect(taken.count == 1000)
        #expect(try parser.complete(peerClosed: false)?.body == [])
    }

    @Test func anErrorStaysAnError() throws {
        var parser = HTTPResponseParser()
        #expect(throws: HTTPResponseParser.Failure.malformed("bad status line")) {
            try parser.append(Array("FOO 200\r\n\r\n".utf8))
        }
        #expect(throws: HTTPResponseParser.Failure.malformed("bad status line")) {
            try parser.append(Array(okHead.utf8))
        }
        #expect(throws: HTTPResponseParser.Failure.malformed("bad status line")) { try parser.complete(peerClosed: true) }
    }

    @Test func chunkedDecoderStopsAtTheEndOfTheBody() throws {
        var decoder = ChunkedBodyDecoder(maxBodyBytes: 100)
        var body: [UInt8] = []
        let input = Array("3\r\nabc\r\n0\r\n\r\nNEXT".utf8)
        let used = try input.withUnsafeBytes { raw in try decoder.feed(raw, into: &body) }
        #expect(used == input.count - 4)
        #expect(decoder.isDone)
        #expect(body == Array("abc".utf8))
    }
}
