import KittBase

/// Parses HTTP/1.1 responses for kitt's own clients (Devon, the agent, tests): status line,
/// headers, then a Content-Length, chunked, or until-close body. Incremental like the request
/// parser: `append` looks at each byte once (the head's end is found with a running match,
/// chunked bodies are decoded as they arrive), so a 16 MiB response read in 64 KiB pieces
/// costs the same as one read. Bounded while still incomplete: the head by `maxHeadBytes`,
/// the body held (decoded, not yet taken) by `maxBytes`.
public struct HTTPResponseParser: Sendable {
    public struct Head: Sendable {
        public let status: Int
        public let reason: String
        public let headers: HTTPHeaders
    }

    public struct ParsedResponse: Sendable {
        public let status: Int
        public let headers: HTTPHeaders
        public let body: [UInt8]
    }

    public enum Failure: Error, Equatable, CustomStringConvertible {
        case malformed(String)
        case tooLarge
        public var description: String {
            switch self {
            case .malformed(let why): return "malformed response: \(why)"
            case .tooLarge: return "response too large"
            }
        }
    }

    private enum Body: Sendable {
        case awaitingHead
        case length(remaining: Int)
        case chunked(ChunkedBodyDecoder)
        case untilClose
        case done
    }

    private var state = Body.awaitingHead
    /// The head's bytes, kept until its blank line arrives.
    private var headBytes: [UInt8] = []
    /// How many bytes of CR LF CR LF the head currently ends with.
    private var headEndMatched = 0
    private var head: Head?
    /// Decoded body bytes not yet taken.
    private var body: [UInt8] = []
    /// Bytes after a complete response (the next pipelined response).
    private var trailing: [UInt8] = []
    private var failure: Failure?
    /// Bytes of the head looked at by the end search, plus what the chunked decoder looked
    /// at: the fuzzer checks this never exceeds the input (no rescans).
    private(set) var scannedBytes = 0
    private let maxBytes: Int
    private let maxHeadBytes: Int
    private let isHeadRequest: Bool

    public init(maxBytes: Int = 16 << 20, maxHeadBytes: Int = 64 << 10, isHeadRequest: Bool = false) {
        self.maxBytes = maxBytes
        self.maxHeadBytes = min(maxHeadBytes, maxBytes)
        self.isHeadRequest = isHeadRequest
    }

    public mutating func append(_ bytes: UnsafeRawBufferPointer) throws(Failure) {
        if let failure { throw failure }
        do {
            try consume(bytes)
        } catch {
            failure = error
            throw error
        }
    }

    public mutating func append(_ bytes: [UInt8]) throws(Failure) {
        // Array.withUnsafeBytes only rethrows `any Error`; carry the typed error out by hand.
        let result = bytes.withUnsafeBytes { raw in
            Result { () throws(Failure) in try append(raw) }
        }
        try result.get()
    }

    /// The head once it has arrived (SSE readers use this before any body).
    public func parsedHead() throws(Failure) -> Head? {
        if let failure { throw failure }
        return head
    }

    /// Decoded body bytes received so far and not yet taken (for streaming readers).
    public var bodyBytesSoFar: [UInt8] { body }

    /// Takes the decoded body bytes received so far; a streaming reader calls this after each
    /// append, so only what it has not read yet counts against `maxBytes`.
    public mutating func takeBody() -> [UInt8] {
        defer { body.removeAll(keepingCapacity: true) }
        return body
    }

    /// True once the body has fully arrived (never for an until-close body).
    public var isBodyComplete: Bool { if case .done = state { true } else { false } }

    /// Bytes received after the complete response (the start of a pipelined one).
    public var bytesAfterResponse: [UInt8] { trailing }

    /// The complete response, or nil when more bytes are needed. `peerClosed`: no more will come.
    public func complete(peerClosed: Bool) throws(Failure) -> ParsedResponse? {
        if let failure { throw failure }
        guard let head else {
            if peerClosed { throw .malformed("connection closed before the response head") }
            return nil
        }
        switch state {
        case .done:
            return ParsedResponse(status: head.status, headers: head.headers, body: body)
        case .untilClose:
            return peerClosed ? ParsedResponse(status: head.status, headers: head.headers, body: body) : nil
        case .chunked:
            if peerClosed { throw .malformed("connection closed inside a chunked body") }
            return nil
        case .length:
            if peerClosed { throw .malformed("connection closed before the body ended") }
            return nil
        case .awaitingHead:
            preconditionFailure("a parsed head always chose a body state")
        }
    }

    private mutating func consume(_ input: UnsafeRawBufferPointer) throws(Failure) {
        var i = 0
        while i < input.count {
            switch state {
            case .awaitingHead:
                i = try consumeHead(input, from: i)
            case .length(let remaining):
                let taken = min(remaining, input.count - i)
                body.append(contentsOf: UnsafeRawBufferPointer(rebasing: input[i..<(i + taken)]))
                if body.count > maxBytes { throw .tooLarge }
                i += taken
                state = taken == remaining ? .done : .length(remaining: remaining - taken)
            case .chunked(var decoder):
                let before = decoder.scannedBytes
                defer { scannedBytes += decoder.scannedBytes - before }
                i += try decoder.feed(UnsafeRawBufferPointer(rebasing: input[i...]), into: &body)
                state = decoder.isDone ? .done : .chunked(decoder)
            case .untilClose:
                body.append(contentsOf: UnsafeRawBufferPointer(rebasing: input[i...]))
                if body.count > maxBytes { throw .tooLarge }
                i = input.count
            case .done:
                trailing.append(contentsOf: UnsafeRawBufferPointer(rebasing: input[i...]))
                if trailing.count > maxBytes { throw .tooLarge }
                i = input.count
            }
        }
    }

    /// Copies head bytes up to and including the blank line, then parses the head once.
    /// Returns the index after the bytes it used.
    private mutating func consumeHead(_ input: UnsafeRawBufferPointer, from start: Int) throws(Failure) -> Int {
        var i = start
        while i < input.count {
            let byte = input[i]
            i += 1
            scannedBytes += 1
            // The running match of CR LF CR LF: a CR restarts it at 1 (or continues at 3).
            switch (headEndMatched, byte) {
            case (0, ASCII.cr), (2, ASCII.cr): headEndMatched += 1
            case (1, ASCII.lf), (3, ASCII.lf): headEndMatched += 1
            case (_, ASCII.cr): headEndMatched = 1
            default: headEndMatched = 0
            }
            if headEndMatched == 4 {
                headBytes.append(contentsOf: UnsafeRawBufferPointer(rebasing: input[start..<i]))
                guard headBytes.count <= maxHeadBytes else { throw .tooLarge }
                try parseHead(headBytes.dropLast(4))
                headBytes = []
                return i
            }
        }
        headBytes.append(contentsOf: UnsafeRawBufferPointer(rebasing: input[start..<i]))
        guard headBytes.count <= maxHeadBytes else { throw .tooLarge }
        return i
    }

    private mutating func parseHead(_ bytes: ArraySlice<UInt8>) throws(Failure) {
        let text = String(decoding: bytes, as: UTF8.self)
        var lines = text.split(separator: "\r\n", omittingEmptySubsequences: false)[...]
        guard let statusLine = lines.popFirst() else { throw .malformed("empty head") }
        let parts = statusLine.split(separator: " ", maxSplits: 2, omittingEmptySubsequences: false)
        guard parts.count >= 2, parts[0].hasPrefix("HTTP/1."), let status = Int(parts[1]) else {
            throw .malformed("bad status line")
        }
        var headers = HTTPHeaders()
        for line in lines {
            guard let colon = line.firstIndex(of: ":") else { throw .malformed("bad header line") }
            headers.add(name: String(line[..<colon]), value: String(line[line.index(after: colon)...].trimmed()))
        }
        let parsed = Head(status: status, reason: parts.count > 2 ? String(parts[2]) : "", headers: headers)
        head = parsed
        state = try bodyState(for: parsed)
    }

    private func bodyState(for head: Head) throws(Failure) -> Body {
        if isHeadRequest || head.status == 204 || head.status == 304 || (100..<200).contains(head.status) {
            return .done
        }
        if head.headers.hasToken("chunked", in: "Transfer-Encoding") {
            return .chunked(ChunkedBodyDecoder(maxBodyBytes: maxBytes))
        }
        if let lengthText = head.headers["Content-Length"] {
            guard let length = Int(lengthText), length >= 0 else { throw .malformed("bad Content-Length") }
            if length > maxBytes { throw .tooLarge }
            return length == 0 ? .done : .length(remaining: length)
        }
        return .untilClose
    }
}
