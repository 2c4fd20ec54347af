import Testing

@testable import KittHTTP

@Suite("Parser across appends: pipelining, splits, limits, slowloris")
struct HTTPRequestParserStreamingTests {
    static let three = bytes(
        "GET /1 HTTP/1.1\r\nHost: a\r\n\r\n"
            + "POST /2 HTTP/1.1\r\nHost: a\r\nContent-Length: 5\r\n\r\nhello"
            + "\r\n"  // a stray CRLF after a body, as some clients send: skipped
            + "PUT /3 HTTP/1.1\r\nHost: a\r\nTransfer-Encoding: chunked\r\n\r\n3\r\nabc\r\n0\r\n\r\n")

    @Test("three pipelined requests in one append come out in order")
    func pipelinedInOrder() throws {
        var parser = HTTPRequestParser()
        parser.append(Self.three)
        var targets: [String] = []
        var bodies: [String] = []
        while let event = try parser.next() {
            guard case .request(let request) = event else {
                Issue.record("unexpected \(event)")
                continue
            }
            targets.append(request.target)
            bodies.append(String(decoding: request.body, as: UTF8.self))
        }
        #expect(targets == ["/1", "/2", "/3"])
        #expect(bodies == ["", "hello", "abc"])
        #expect(parser.isIdle)
        #expect(parser.bufferedByteCount == Self.three.count, "nothing appended since, so nothing compacted yet")
        parser.append(bytes("G"))
        #expect(parser.bufferedByteCount == 1, "consumed requests are dropped on the next append")
    }

    @Test("the same three requests, cut at every possible point")
    func everySplitPoint() {
        let reference = parse(Self.three)
        #expect(reference.requests.count == 3)
        for cut in 1..<Self.three.count {
            var parser = HTTPRequestParser()
            var outcome = parse(Array(Self.three[..<cut]), with: &parser)
            let rest = parse(Array(Self.three[cut...]), with: &parser)
            outcome.requests += rest.requests
            outcome.error = rest.error
            #expect(outcome.sameResult(as: reference), "cut at \(cut)")
        }
    }

    @Test("a request split mid-header and mid-chunk")
    func splitMidHeaderAndMidChunk() throws {
        var parser = HTTPRequestParser()
        parser.append(bytes("POST /up HTTP/1.1\r\nHost: a\r\nTransfer-Enc"))
        #expect(try parser.next() == nil)
        #expect(parser.isReadingHead)
        parser.append(bytes("oding: chunked\r\n\r\n5\r\nhel"))
        #expect(try parser.next() == nil)
        #expect(!parser.isReadingHead && !parser.isIdle)
        parser.append(bytes("lo\r\n0\r\n\r\n"))
        guard case .request(let request)? = try parser.next() else {
            Issue.record("no request")
            return
        }
        #expect(request.body == bytes("hello"))
        #expect(try parser.next() == nil)
        #expect(parser.isIdle)
    }

    @Test("Expect: 100-continue: .expectContinue after the head, once, then the request")
    func expectContinue() throws {
        var parser = HTTPRequestParser()
        parser.append(bytes("PUT /x HTTP/1.1\r\nHost: a\r\nExpect: 100-continue\r\nContent-Length: 6\r\n\r\n"))
        guard case .expectContinue? = try parser.next() else {
            Issue.record("no expectContinue")
            return
        }
        #expect(try parser.next() == nil, "emitted once")
        parser.append(bytes("abc"))
        #expect(try parser.next() == nil, "still not twice")
        parser.append(bytes("def"))
        guard case .request(let request)? = try parser.next() else {
            Issue.record("no request")
            return
        }
        #expect(request.body == bytes("abcdef"))
    }

    @Test("413 from the head alone: Content-Length 999999999, no body sent")
    func payloadTooLargeFromHead() {
        var parser = HTTPRequestParser()
        parser.append(bytes("POST /x HTTP/1.1\r\nHost: a\r\nContent-Length: 999999999\r\n\r\n"))
        #expect(throws: HTTPParseError.payloadTooLarge) { _ = try parser.next() }
    }

    @Test("431 with 17 KiB of header bytes and no terminator, without waiting for more")
    func headersTooLargeWithoutTerminator() {
        var parser = HTTPRequestParser()
        var input = bytes("GET / HTTP/1.1\r\nHost: a\r\n")
        while input.count < 17 * 1024 { input += bytes("X-Filler: " + String(repeating: "f", count: 90) + "\r\n") }
        parser.append(input)
        #expect(throws: HTTPParseError.headersTooLarge) { _ = try parser.next() }
    }

    @Test("a head of exactly maxHeadBytes is accepted; one byte more is 431")
    func headLimitIsExact() {
        let limits = HTTPLimits(maxHeadBytes: 64)
        let base = "GET / HTTP/1.1\r\nHost: a\r\nX: "
        let fits = bytes(base + String(repeating: "v", count: 64 - base.utf8.count - 4) + "\r\n\r\n")
        #expect(fits.count == 64)
        #expect(parse(fits, limits: limits).requests.count == 1)
        #expect(parse(fits, chunkSize: 1, limits: limits).requests.count == 1)
        let over = bytes(base + String(repeating: "v", count: 64 - base.utf8.count - 3) + "\r\n\r\n")
        #expect(parse(over, limits: limits).error == .headersTooLarge)
        #expect(parse(over, chunkSize: 1, limits: limits).error == .headersTooLarge)
    }

    @Test("414 with a 9 KiB request line and no CRLF, without waiting for more")
    func uriTooLongWithoutCRLF() {
        var parser = HTTPRequestParser()
        parser.append(bytes("GET /" + String(repeating: "a", count: 9 * 1024)))
        #expect(throws: HTTPParseError.uriTooLong) { _ = try parser.next() }
    }

    @Test("slowloris: 16,000 bytes one at a time complete, and each byte is scanned once")
    func slowloris() throws {
        var input = bytes("GET /slow HTTP/1.1\r\nHost: a\r\n")
        while input.count < 16_000 - 300 { input += bytes("X-Drip: " + String(repeating: "d", count: 190) + "\r\n") }
        input += bytes("X-Last: " + String(repeating: "z", count: 16_000 - input.count - 12) + "\r\n\r\n")
        #expect(input.count == 16_000)

        var parser = HTTPRequestParser()
        var requests = 0
        for byte in input {
            parser.append([byte])
            while let event = try parser.next() {
                if case .request = event { requests += 1 }
            }
            #expect(parser.bufferedByteCount <= 300, "only the current line is buffered")
        }
        #expect(requests == 1)
        #expect(parser.scannedBytes <= input.count, "the LF search never looks at a byte twice")
    }

    @Test("fuzz regression: OPTIONS *, tiny limits, 6 bytes per append, each byte scanned once")
    func fuzzRegressionScanCount() {
        // Scripts/fuzz/corpus/regression-scan-count: the scan counter charged the whole
        // searched range even when the LF came early, so the harness saw 'rescans'.
        let input = bytes("OPTIONS * HTTP/1.1\r\nHost: a\r\n\r\n")
        let limits = HTTPLimits(maxHeadBytes: 200, maxRequestLineBytes: 60, maxBodyBytes: 100, maxHeaderCount: 4)
        var parser = HTTPRequestParser(limits: limits)
        let outcome = parse(input, chunkSize: 6, with: &parser)
        #expect(outcome.sameResult(as: parse(input, limits: limits)))
        #expect(outcome.requests.map(\.target) == ["*"])
        #expect(parser.scannedBytes == input.count)
    }

    @Test("chunk sizes cannot overflow, even with maxBodyBytes = Int.max")
    func chunkSizeOverflow() throws {
        let limits = HTTPLimits(maxBodyBytes: .max)
        let head = "POST / HTTP/1.1\r\nHost: a\r\nTransfer-Encoding: chunked\r\n\r\n"
        #expect(parse(bytes(head + "7FFFFFFFFFFFFFFFF\r\n"), limits: limits).error == .payloadTooLarge)
        #expect(parse(bytes(head + "10000000000000000\r\n"), limits: limits).error == .payloadTooLarge)
        let waiting = parse(bytes(head + "7FFFFFFFFFFFFFFF\r\nabc"), limits: limits)
        #expect(waiting.error == nil && waiting.requests.isEmpty, "Int.max itself is a legal size: keep reading")
    }

    @Test("a too-long request line is 414, unless the head limit is the tighter one: 431")
    func requestLineLimitNaming() {
        let line = bytes("GET /" + String(repeating: "a", count: 100))
        #expect(parse(line, limits: HTTPLimits(maxHeadBytes: 200, maxRequestLineBytes: 50)).error == .uriTooLong)
        #expect(parse(line, limits: HTTPLimits(maxHeadBytes: 50, maxRequestLineBytes: 49)).error == .headersTooLarge)
        #expect(parse(line, limits: HTTPLimits(maxHeadBytes: 50, maxRequestLineBytes: 48)).error == .uriTooLong)
    }

    @Test("idle and reading-head states")
    func idleAndReadingHead() throws {
        var parser = HTTPRequestParser()
        #expect(parser.isIdle && !parser.isReadingHead)
        parser.append(bytes("GE"))
        _ = try parser.next()
        #expect(!parser.isIdle && parser.isReadingHead)
        parser.append(bytes("T / HTTP/1.1\r\n"))
        _ = try parser.next()
        #expect(!parser.isIdle && parser.isReadingHead, "between request line and headers")
        parser.append(bytes("Host: a\r\nContent-Length: 2\r\n\r\n"))
        #expect(try parser.next() == nil)
        #expect(!parser.isIdle && !parser.isReadingHead, "reading the body")
        parser.append(bytes("ok"))
        #expect(try parser.next() != nil)
        #expect(parser.isIdle && !parser.isReadingHead)
    }

    @Test("a long keep-alive stream keeps the buffer small")
    func bufferIsCompacted() throws {
        var parser = HTTPRequestParser()
        let request = bytes("POST /r HTTP/1.1\r\nHost: a\r\nContent-Length: 10\r\n\r\n0123456789")
        var count = 0
        for _ in 0..<1000 {
            // Each append carries one and a half requests: the buffer never drains fully.
            parser.append(request + request[..<(request.count / 2)])
            parser.append(Array(request[(request.count / 2)...]))
            while let event = try parser.next() {
                if case .request = event { count += 1 }
            }
            #expect(parser.bufferedByteCount < 8 * 1024)
        }
        #expect(count == 2000)
    }
}

extension HTTPParserEvent: Equatable {
    public static func == (a: HTTPParserEvent, b: HTTPParserEvent) -> Bool {
        switch (a, b) {
        case (.expectContinue, .expectContinue): true
        case (.request(let x), .request(let y)): ParsedRequest(x) == ParsedRequest(y)
        default: false
        }
    }
}
