#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// What the parser hands to the connection.
public enum HTTPParserEvent: Sendable {
    /// A complete request: head parsed, body fully read and de-chunked.
    case request(HTTPRequest)
    /// The head of the current request asked for `Expect: 100-continue` and its body is not
    /// all here yet: send `100 Continue`. Emitted at most once per request, before `.request`.
    case expectContinue
}

/// An incremental HTTP/1.1 request parser (RFC 9112) that faces untrusted bytes.
///
/// Feed bytes with `append`, then call `next()` until it returns nil. The head is handled a
/// line at a time as each CRLF arrives, so the buffer only ever holds the current partial
/// line (or body bytes not yet copied out), and a scan offset makes sure no byte is looked
/// at twice: a client dribbling one byte at a time costs O(n) in total, not O(n²).
/// Limits are checked against byte positions, so an oversized request fails the moment the
/// limit is passed, and the outcome never depends on how the input was split.
public struct HTTPRequestParser: Sendable {
    let limits: HTTPLimits

    /// Input not yet consumed starts at `consumed`; everything before it is done with.
    private var storage: [UInt8] = []
    private var consumed = 0
    /// The LF search resumes here: bytes in `consumed..<scanIndex` hold no LF.
    private var scanIndex = 0
    /// Where the current request line started (may go negative after compaction).
    private var headStart = 0
    /// Where the trailer section of the current chunked body started.
    private var trailerStart = 0
    private var emptyLinesSkipped = 0
    private var phase = Phase.requestLine
    var pending = PendingRequest()
    private var failure: HTTPParseError?

    /// Bytes handed to the LF search, summed over the parser's life. Tests use it to check
    /// that feeding byte by byte stays linear.
    private(set) var scannedBytes = 0
    /// Bytes held in the internal buffer (tests check that consumed input is dropped).
    var bufferedByteCount: Int { storage.count }

    /// RFC 9112 §2.2 asks servers to ignore at least one empty line before a request line
    /// (clients sometimes send CRLF after a POST body). A few, not an unbounded stream.
    static let maxEmptyLinesBeforeRequest = 8
    /// A chunk-size line: hex size plus extensions, which are ignored.
    static let maxChunkSizeLineBytes = 4096

    enum Phase: Sendable, Equatable {
        case requestLine
        case headerLines
        case body(remaining: Int)
        case chunkSizeLine
        case chunkData(remaining: Int)
        case chunkDataEnd
        case trailerLines
    }

    /// The request being assembled while its head and body arrive.
    struct PendingRequest: Sendable {
        var method = HTTPMethod.get
        var target = ""
        var version = HTTPVersion.http11
        var headers = HTTPHeaders()
        var body: [UInt8] = []
        var hostCount = 0
        var contentLength: Int?
        var transferEncodingSeen = false
        var codingCount = 0
        var chunkedCount = 0
        var unsupportedCoding: String?
        var expectSeen = false
        var expectsContinue = false
        var sentContinue = false
        var headBytes = 0
    }

    public init(limits: HTTPLimits = HTTPLimits()) {
        self.limits = limits
    }

    /// No partial request is buffered: the connection is between requests (idle timeout).
    public var isIdle: Bool {
        phase == .requestLine && consumed == storage.count
    }

    /// Bytes of a not-yet-complete head are buffered (header read timeout).
    public var isReadingHead: Bool {
        switch phase {
        case .requestLine: consumed < storage.count
        case .headerLines: true
        default: false
        }
    }

    public mutating func append(_ bytes: UnsafeRawBufferPointer) {
        guard failure == nil, !bytes.isEmpty else { return }
        compact()
        storage.append(contentsOf: bytes)
    }

    public mutating func append(_ bytes: [UInt8]) {
        guard failure == nil, !bytes.isEmpty else { return }
        compact()
        storage.append(contentsOf: bytes)
    }

    /// Next event, or nil when more bytes are needed. Call repeatedly: pipelined requests come
    /// out one by one, in order. After it throws, the parser is unusable (the connection
    /// closes) and every later call throws the same error.
    public mutating func next() throws(HTTPParseError) -> HTTPParserEvent? {
        if let failure { throw failure }
        // A second reference, not a copy: `storage` is not written while this one is alive.
        let bytes = storage
        do {
            return try bytes.withUnsafeBufferPointer { (buffer) throws(HTTPParseError) -> HTTPParserEvent? in
                try self.step(buffer)
            }
        } catch {
            failure = error
            storage = []
            consumed = 0
            scanIndex = 0
            throw error
        }
    }

    /// Drops consumed bytes when they are all of the buffer, or at least half of a large
    /// one (amortized O(1) per byte), and shifts the saved positions with them.
    private mutating func compact() {
        guard consumed > 0 else { return }
        if consumed == storage.count {
            storage.removeAll(keepingCapacity: storage.capacity <= 64 * 1024)
        } else if consumed >= 4096 && consumed >= storage.count / 2 {
            storage.removeSubrange(0..<consumed)
        } else {
            return
        }
        scanIndex -= consumed
        headStart -= consumed
        trailerStart -= consumed
        consumed = 0
    }

    // MARK: - The state machine

    private mutating func step(_ buffer: UnsafeBufferPointer<UInt8>) throws(HTTPParseError) -> HTTPParserEvent? {
        while true {
            switch phase {
            case .requestLine, .headerLines, .chunkSizeLine, .trailerLines:
                let bound = lineBound()
                let end = min(buffer.count, bound)
                guard let lf = findLF(buffer, from: scanIndex, to: end) else {
                    scanIndex = max(scanIndex, end)
                    // Every byte before `bound` was searched and none was the LF: the line
                    // cannot end within its limit, so fail now rather than wait for more.
                    if buffer.count >= bound && buffer.count > consumed { throw lineLimitError() }
                    return waitForMore()
                }
                let start = consumed
                scanIndex = lf + 1
                consumed = lf + 1
                // Strict CRLF, no bare LF (RFC 9112 §2.2 allows accepting one; we do not):
                // a proxy in front of us that ends lines differently would otherwise see a
                // different request than we do — the root of request smuggling.
                guard lf > start, buffer[lf - 1] == ASCII.cr else {
                    throw .badRequest("bare LF line ending (lines must end with CRLF)")
                }
                if let event = try handleLine(buffer, start: start, end: lf - 1) { return event }

            case .body(let remaining):
                let taken = copyBody(buffer, upTo: remaining)
                if taken == remaining { return .request(finishRequest()) }
                phase = .body(remaining: remaining - taken)
                return waitForMore()

            case .chunkData(let remaining):
                let taken = copyBody(buffer, upTo: remaining)
                guard taken == remaining else {
                    phase = .chunkData(remaining: remaining - taken)
                    return waitForMore()
                }
                phase = .chunkDataEnd

            case .chunkDataEnd:
                let available = buffer.count - consumed
                if available >= 1 && buffer[consumed] != ASCII.cr || available >= 2 && buffer[consumed + 1] != ASCII.lf {
                    throw .badRequest("chunk data not followed by CRLF")
                }
                guard available >= 2 else { return waitForMore() }
                consumed += 2
                scanIndex = consumed
                phase = .chunkSizeLine
            }
        }
    }

    /// The LF ending the current line must sit before this index.
    private func lineBound() -> Int {
        switch phase {
        case .requestLine:
            // Line content ≤ maxRequestLineBytes, plus CR and LF; and all of it inside the head.
            let lineLimit = Self.adding(max(0, limits.maxRequestLineBytes), 2)
            return Self.adding(consumed, min(lineLimit, max(1, limits.maxHeadBytes)))
        case .headerLines:
            return Self.adding(headStart, max(0, limits.maxHeadBytes))
        case .trailerLines:
            // Trailer fields share what the head left of maxHeadBytes; the final CRLF is free.
            let budget = max(0, limits.maxHeadBytes - pending.headBytes)
            return Self.adding(trailerStart, Self.adding(budget, 2))
        default:
            return Self.adding(consumed, Self.maxChunkSizeLineBytes)
        }
    }

    private func lineLimitError() -> HTTPParseError {
        switch phase {
        case .requestLine:
            // Whichever limit set the bound names the error.
            Self.adding(max(0, limits.maxRequestLineBytes), 2) <= max(1, limits.maxHeadBytes)
                ? .uriTooLong : .headersTooLarge
        case .chunkSizeLine:
            .badRequest("chunk size line too long")
        default:
            .headersTooLarge
        }
    }

    private static func adding(_ a: Int, _ b: Int) -> Int {
        let (sum, overflow) = a.addingReportingOverflow(b)
        return overflow ? Int.max : sum
    }

    private mutating func findLF(_ buffer: UnsafeBufferPointer<UInt8>, from: Int, to: Int) -> Int? {
        guard from < to, let base = buffer.baseAddress else { return nil }
        guard let hit = memchr(base + from, Int32(ASCII.lf), to - from) else {
            scannedBytes &+= to - from
            return nil
        }
        let lf = UnsafeRawPointer(base).distance(to: UnsafeRawPointer(hit))
        scannedBytes &+= lf + 1 - from
        return lf
    }

    /// Moves up to `limit` buffered body bytes into the pending body; returns how many.
    private mutating func copyBody(_ buffer: UnsafeBufferPointer<UInt8>, upTo limit: Int) -> Int {
        let taken = min(limit, buffer.count - consumed)
        guard taken > 0 else { return 0 }
        pending.body.append(contentsOf: UnsafeBufferPointer(rebasing: buffer[consumed..<consumed + taken]))
        consumed += taken
        scanIndex = consumed
        return taken
    }

    /// Nil, except the first time a body phase runs dry for a request that asked for
    /// `100-continue`: the client may be holding the body back until it hears from us.
    private mutating func waitForMore() -> HTTPParserEvent? {
        guard pending.expectsContinue, !pending.sentContinue else { return nil }
        pending.sentContinue = true
        return .expectContinue
    }

    /// One complete line, CRLF excluded: `buffer[start..<end]`.
    private mutating func handleLine(_ buffer: UnsafeBufferPointer<UInt8>, start: Int, end: Int)
        throws(HTTPParseError) -> HTTPParserEvent?
    {
        switch phase {
        case .requestLine:
            if start == end {
                emptyLinesSkipped += 1
                if emptyLinesSkipped > Self.maxEmptyLinesBeforeRequest {
                    throw .badRequest("too many empty lines before the request line")
                }
                return nil
            }
            headStart = start
            try parseRequestLine(buffer, start: start, end: end)
            phase = .headerLines
            return nil
        case .headerLines:
            if start == end { return try finishHead(headEnd: end + 2) }
            try parseHeaderLine(buffer, start: start, end: end, isTrailer: false)
            return nil
        case .chunkSizeLine:
            let size = try parseChunkSizeLine(buffer, start: start, end: end)
            if size == 0 {
                trailerStart = consumed
                phase = .trailerLines
            } else {
                phase = .chunkData(remaining: size)
            }
            return nil
        case .trailerLines:
            if start == end { return .request(finishRequest()) }
            try parseHeaderLine(buffer, start: start, end: end, isTrailer: true)
            return nil
        default:
            return nil
        }
    }

    /// The blank line ending the head arrived: check the message as a whole and pick the framing.
    private mutating func finishHead(headEnd: Int) throws(HTTPParseError) -> HTTPParserEvent? {
        pending.headBytes = headEnd - headStart
        if pending.version == .http11 && pending.hostCount == 0 {
            throw .badRequest("missing Host header (required in HTTP/1.1)")
        }
        if pending.transferEncodingSeen {
            if pending.version == .http10 {
                throw .badRequest("Transfer-Encoding is not allowed in an HTTP/1.0 request")
            }
            if pending.contentLength != nil {
                throw .badRequest("both Content-Length and Transfer-Encoding are present")
            }
            if let coding = pending.unsupportedCoding {
                throw .unsupportedTransferCoding("unsupported transfer coding '\(coding)' (only chunked is supported)")
            }
            if pending.codingCount == 0 { throw .badRequest("empty Transfer-Encoding") }
            if pending.chunkedCount > 1 { throw .badRequest("chunked transfer coding applied more than once") }
            pending.expectsContinue = pending.expectSeen
            phase = .chunkSizeLine
            return nil
        }
        if let length = pending.contentLength, length > 0 {
            if length > limits.maxBodyBytes { throw .payloadTooLarge }
            // Reserve modestly: the length is only a claim until the bytes arrive.
            pending.body.reserveCapacity(min(length, 64 * 1024))
            pending.expectsContinue = pending.expectSeen
            phase = .body(remaining: length)
            return nil
        }
        return .request(finishRequest())
    }

    private mutating func finishRequest() -> HTTPRequest {
        let request = HTTPRequest(
            method: pending.method, target: pending.target, version: pending.version,
            headers: pending.headers, body: pending.body)
        pending = PendingRequest()
        phase = .requestLine
        emptyLinesSkipped = 0
        return request
    }
}
