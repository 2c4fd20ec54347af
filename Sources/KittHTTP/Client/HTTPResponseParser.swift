import KittBase
/// Parses HTTP/1.1 responses for kitt's own clients (Devon, the agent, tests): status line,
/// headers, then a Content-Length, chunked, or until-close body. Bounded by `maxBytes`.
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

    private var buffer: [UInt8] = []
    private var head: Head?
    private var bodyStart = 0
    private let maxBytes: Int
    private let isHeadRequest: Bool

    public init(maxBytes: Int = 16 << 20, isHeadRequest: Bool = false) {
        self.maxBytes = maxBytes
        self.isHeadRequest = isHeadRequest
    }

    public mutating func append(_ bytes: UnsafeRawBufferPointer) throws(Failure) {
        buffer.append(contentsOf: bytes)
        if buffer.count > maxBytes { throw .tooLarge }
    }

    public mutating func append(_ bytes: [UInt8]) throws(Failure) {
        buffer.append(contentsOf: bytes)
        if buffer.count > maxBytes { throw .tooLarge }
    }

    /// The head once it has arrived (SSE readers use this before any body).
    public mutating func parsedHead() throws(Failure) -> Head? {
        if let head { return head }
        guard let end = HTTPResponseParser.find([13, 10, 13, 10], in: buffer[...], from: 0) else { return nil }
        let text = String(decoding: buffer[0..<end], as: UTF8.self)
        var lines = text.split(separator: "\r\n", omittingEmptySubsequences: false)[...]
        guard let statusLine = lines.popFirst() else { throw .malformed("empty head") }
        let parts = statusLine.split(separator: " ", maxSplits: 2, omittingEmptySubsequences: false)
        guard parts.count >= 2, parts[0].hasPrefix("HTTP/1."), let status = Int(parts[1]) else {
            throw .malformed("bad status line")
        }
        var headers = HTTPHeaders()
        for line in lines {
            guard let colon = line.firstIndex(of: ":") else { throw .malformed("bad header line") }
            headers.add(
                name: String(line[..<colon]),
                value: String(line[line.index(after: colon)...].trimmed()))
        }
        let parsed = Head(status: status, reason: parts.count > 2 ? String(parts[2]) : "", headers: headers)
        head = parsed
        bodyStart = end + 4
        return parsed
    }

    /// Bytes after the head received so far (for streaming readers).
    public var bodyBytesSoFar: ArraySlice<UInt8> { head == nil ? [] : buffer[bodyStart...] }

    /// Drops body bytes already consumed by a streaming reader.
    public mutating func consumeBody(_ count: Int) {
        buffer.removeSubrange(bodyStart..<(bodyStart + count))
    }

    /// The complete response, or nil when more bytes are needed. `peerClosed`: no more will come.
    public mutating func complete(peerClosed: Bool) throws(Failure) -> ParsedResponse? {
        guard let head = try parsedHead() else {
            if peerClosed { throw .malformed("connection closed before the response head") }
            return nil
        }
        let body = buffer[bodyStart...]
        if isHeadRequest || head.status == 204 || head.status == 304 || (100..<200).contains(head.status) {
            return ParsedResponse(status: head.status, headers: head.headers, body: [])
        }
        if head.headers.hasToken("chunked", in: "Transfer-Encoding") {
            guard let decoded = try HTTPResponseParser.dechunk(body) else {
                if peerClosed { throw .malformed("connection closed inside a chunked body") }
                return nil
            }
            return ParsedResponse(status: head.status, headers: head.headers, body: decoded)
        }
        if let lengthText = head.headers["Content-Length"] {
            guard let length = Int(lengthText), length >= 0 else { throw .malformed("bad Content-Length") }
            if length > maxBytes { throw .tooLarge }
            if body.count >= length {
                return ParsedResponse(status: head.status, headers: head.headers, body: Array(body.prefix(length)))
            }
            if peerClosed { throw .malformed("connection closed before the body ended") }
            return nil
        }
        return peerClosed ? ParsedResponse(status: head.status, headers: head.headers, body: Array(body)) : nil
    }

    /// Decodes a complete chunked body; nil when incomplete.
    static func dechunk(_ body: ArraySlice<UInt8>) throws(Failure) -> [UInt8]? {
        var out: [UInt8] = []
        var index = body.startIndex
        while true {
            guard let lineEnd = find([13, 10], in: body, from: index) else { return nil }
            let sizeText = String(decoding: body[index..<lineEnd], as: UTF8.self)
                .split(separator: ";", maxSplits: 1).first.map(String.init) ?? ""
            guard let size = Int(sizeText.trimmed(), radix: 16), size >= 0 else {
                throw .malformed("bad chunk size")
            }
            index = lineEnd + 2
            if size == 0 {
                // Trailers end with an empty line.
                var cursor = index
                while true {
                    guard let end = find([13, 10], in: body, from: cursor) else { return nil }
                    if end == cursor { return out }
                    cursor = end + 2
                }
            }
            guard body.endIndex - index >= size + 2 else { return nil }
            out.append(contentsOf: body[index..<(index + size)])
            index += size + 2
        }
    }

    static func find(_ needle: [UInt8], in haystack: ArraySlice<UInt8>, from start: Int) -> Int? {
        guard haystack.count >= needle.count else { return nil }
        var i = max(start, haystack.startIndex)
        let last = haystack.endIndex - needle.count
        while i <= last {
            var matched = true
            for j in 0..<needle.count where haystack[i + j] != needle[j] {
                matched = false
                break
            }
            if matched { return i }
            i += 1
        }
        return nil
    }
}
