/// Parsing of single lines (CRLF already stripped): the request line, header and trailer
/// field lines, and chunk-size lines. Each works on `buffer[start..<end]` and looks at every
/// byte once; Strings are made once per field, after the bytes were validated.
extension HTTPRequestParser {
    /// `method SP request-target SP HTTP-version` (RFC 9112 §3).
    mutating func parseRequestLine(_ buffer: UnsafeBufferPointer<UInt8>, start: Int, end: Int)
        throws(HTTPParseError)
    {
        var i = start
        while i < end && ASCII.isTokenByte(buffer[i]) { i += 1 }
        guard i < end else { throw .badRequest("request line has no request target") }
        guard buffer[i] == ASCII.space, i > start else {
            throw Self.unexpected(buffer[i], in: "method")
        }
        let methodEnd = i
        i += 1
        let targetStart = i
        while i < end && ASCII.isVisible(buffer[i]) { i += 1 }
        let targetEnd = i
        // No version at all is the HTTP/0.9 form (`GET /`), which gets no 0.9 reply: 400.
        guard i < end else { throw .badRequest("request line has no HTTP version") }
        guard buffer[i] == ASCII.space, targetEnd > targetStart else {
            throw Self.unexpected(buffer[i], in: "request target")
        }
        i += 1
        let version = try Self.parseVersion(buffer, start: i, end: end)

        let method = HTTPMethod(rawValue: Self.string(buffer, start, methodEnd))
        try Self.checkTargetForm(buffer, start: targetStart, end: targetEnd, method: method)
        pending.method = method
        pending.target = Self.string(buffer, targetStart, targetEnd)
        pending.version = version
    }

    /// Exactly `HTTP/` DIGIT `.` DIGIT: 1.0 and 1.1 are spoken, any other digits get 505.
    private static func parseVersion(_ buffer: UnsafeBufferPointer<UInt8>, start: Int, end: Int)
        throws(HTTPParseError) -> HTTPVersion
    {
        for index in start..<end where buffer[index] == ASCII.cr {
            throw unexpected(ASCII.cr, in: "HTTP version")
        }
        guard end - start == 8,
            buffer[start] == UInt8(ascii: "H"), buffer[start + 1] == UInt8(ascii: "T"),
            buffer[start + 2] == UInt8(ascii: "T"), buffer[start + 3] == UInt8(ascii: "P"),
            buffer[start + 4] == UInt8(ascii: "/"), ASCII.isDigit(buffer[start + 5]),
            buffer[start + 6] == UInt8(ascii: "."), ASCII.isDigit(buffer[start + 7])
        else { throw .badRequest("malformed HTTP version in request line") }
        let major = buffer[start + 5] &- 0x30
        let minor = buffer[start + 7] &- 0x30
        switch (major, minor) {
        case (1, 1): return .http11
        case (1, 0): return .http10
        default: throw .versionNotSupported
        }
    }

    /// origin-form (`/p?q`), absolute-form (`http://host/p`), or `*` for OPTIONS only.
    /// authority-form (CONNECT) is not served.
    private static func checkTargetForm(
        _ buffer: UnsafeBufferPointer<UInt8>, start: Int, end: Int, method: HTTPMethod
    ) throws(HTTPParseError) {
        let first = buffer[start]
        if first == UInt8(ascii: "/") { return }
        if first == UInt8(ascii: "*") && end - start == 1 {
            if method == .options { return }
            throw .badRequest("the '*' request target is only allowed with OPTIONS")
        }
        // scheme = ALPHA *( ALPHA / DIGIT / "+" / "-" / "." ), then "://" and a non-empty authority.
        var i = start
        if ASCII.isAlpha(first) {
            i += 1
            while i < end {
                let byte = buffer[i]
                guard ASCII.isAlpha(byte) || ASCII.isDigit(byte) || byte == UInt8(ascii: "+")
                    || byte == UInt8(ascii: "-") || byte == UInt8(ascii: ".")
                else { break }
                i += 1
            }
            if end - i > 3, buffer[i] == ASCII.colon, buffer[i + 1] == UInt8(ascii: "/"),
                buffer[i + 2] == UInt8(ascii: "/"), buffer[i + 3] != UInt8(ascii: "/"),
                buffer[i + 3] != UInt8(ascii: "?"), buffer[i + 3] != UInt8(ascii: "#")
            {
                return
            }
        }
        throw .badRequest("request target must be a path ('/...') or an absolute URL")
    }

    /// `field-name ":" OWS field-value OWS` (RFC 9112 §5). Trailer fields are checked the
    /// same way and then dropped.
    mutating func parseHeaderLine(_ buffer: UnsafeBufferPointer<UInt8>, start: Int, end: Int, isTrailer: Bool)
        throws(HTTPParseError)
    {
        // obs-fold: a continuation line. RFC 9112 §5.2 lets a server reject it; we do, so no
        // two parsers can disagree about where a value ends.
        if ASCII.isWhitespace(buffer[start]) {
            throw .badRequest("obs-fold (header line starting with whitespace) is not allowed")
        }
        var i = start
        while i < end && ASCII.isTokenByte(buffer[i]) { i += 1 }
        guard i < end else { throw .badRequest("header line without a colon") }
        if buffer[i] != ASCII.colon {
            if ASCII.isWhitespace(buffer[i]) { throw .badRequest("whitespace before header colon") }
            throw Self.unexpected(buffer[i], in: "header name")
        }
        guard i > start else { throw .badRequest("empty header name") }
        let nameEnd = i
        var valueStart = i + 1
        while valueStart < end && ASCII.isWhitespace(buffer[valueStart]) { valueStart += 1 }
        var valueEnd = end
        while valueEnd > valueStart && ASCII.isWhitespace(buffer[valueEnd - 1]) { valueEnd -= 1 }
        // Field values: HTAB, SP, VCHAR, obs-text (≥ 0x80). No other controls, no DEL.
        var j = valueStart
        while j < valueEnd {
            let byte = buffer[j]
            if byte < 0x20 && byte != ASCII.tab || byte == 0x7F { throw Self.unexpected(byte, in: "header value") }
            j += 1
        }
        if isTrailer { return }

        if pending.headers.count >= limits.maxHeaderCount { throw .headersTooLarge }
        switch nameEnd - start {
        case 4 where Self.equalsIgnoringCase(buffer, start, nameEnd, "host"):
            pending.hostCount += 1
            if pending.hostCount > 1 { throw .badRequest("more than one Host header") }
            guard Self.isValidHost(buffer, start: valueStart, end: valueEnd) else {
                throw .badRequest("malformed Host header")
            }
        case 6 where Self.equalsIgnoringCase(buffer, start, nameEnd, "expect"):
            if pending.version == .http11 {
                Self.forEachListElement(buffer, valueStart, valueEnd) { s, e in
                    if Self.equalsIgnoringCase(buffer, s, e, "100-continue") { pending.expectSeen = true }
                }
            }
        case 14 where Self.equalsIgnoringCase(buffer, start, nameEnd, "content-length"):
            try parseContentLength(buffer, start: valueStart, end: valueEnd)
        case 17 where Self.equalsIgnoringCase(buffer, start, nameEnd, "transfer-encoding"):
            pending.transferEncodingSeen = true
            Self.forEachListElement(buffer, valueStart, valueEnd) { s, e in
                pending.codingCount += 1
                if Self.equalsIgnoringCase(buffer, s, e, "chunked") {
                    pending.chunkedCount += 1
                } else if pending.unsupportedCoding == nil {
                    pending.unsupportedCoding = Self.string(buffer, s, min(e, s + 64))
                }
            }
        default:
            break
        }
        pending.headers.add(name: Self.string(buffer, start, nameEnd), value: Self.string(buffer, valueStart, valueEnd))
    }

    /// `1*DIGIT`, or a list of identical ones (`5, 5`: RFC 9110 §8.6 lets a recipient accept
    /// that); repeated fields must agree too. Signs, inner spaces, empties, overflow: 400.
    private mutating func parseContentLength(_ buffer: UnsafeBufferPointer<UInt8>, start: Int, end: Int)
        throws(HTTPParseError)
    {
        var i = start
        while true {
            while i < end && ASCII.isWhitespace(buffer[i]) { i += 1 }
            let digitsStart = i
            var value = 0
            while i < end && ASCII.isDigit(buffer[i]) {
                let (times10, o1) = value.multipliedReportingOverflow(by: 10)
                let (sum, o2) = times10.addingReportingOverflow(Int(buffer[i] &- 0x30))
                if o1 || o2 { throw .badRequest("Content-Length out of range") }
                value = sum
                i += 1
            }
            guard i > digitsStart else { throw .badRequest("invalid Content-Length") }
            while i < end && ASCII.isWhitespace(buffer[i]) { i += 1 }
            if let known = pending.contentLength, known != value {
                throw .badRequest("conflicting Content-Length values")
            }
            pending.contentLength = value
            if i == end { return }
            guard buffer[i] == UInt8(ascii: ",") else { throw .badRequest("invalid Content-Length") }
            i += 1
        }
    }

    /// `1*HEXDIG [ BWS ";" chunk-ext ]` (RFC 9112 §7.1). Extensions are ignored. Returns the size.
    mutating func parseChunkSizeLine(_ buffer: UnsafeBufferPointer<UInt8>, start: Int, end: Int)
        throws(HTTPParseError) -> Int
    {
        var i = start
        var size = 0
        var tooLarge = false
        while i < end, let digit = ASCII.hexValue(buffer[i]) {
            // Saturate instead of overflowing: anything past the body limit is a 413 anyway.
            if size > limits.maxBodyBytes || size > Int.max >> 4 { tooLarge = true } else { size = size << 4 | digit }
            i += 1
        }
        guard i > start else { throw .badRequest("invalid chunk size") }
        var j = i
        while j < end && ASCII.isWhitespace(buffer[j]) { j += 1 }
        if j < end {
            guard buffer[j] == UInt8(ascii: ";") else { throw .badRequest("invalid chunk size") }
            while j < end {
                let byte = buffer[j]
                if byte < 0x20 && byte != ASCII.tab || byte == 0x7F { throw Self.unexpected(byte, in: "chunk extension") }
                j += 1
            }
        }
        if tooLarge || size > limits.maxBodyBytes - pending.body.count { throw .payloadTooLarge }
        return size
    }

    // MARK: - Helpers

    /// RFC 3986 `host [ ":" port ]`: reg-name or IPv4 (with %XX escapes), or `[IPv6]`; a
    /// numeric port up to 65535. An empty value is valid (RFC 9112 §3.2: no authority).
    static func isValidHost(_ buffer: UnsafeBufferPointer<UInt8>, start: Int, end: Int) -> Bool {
        if start == end { return true }
        var i = start
        if buffer[i] == UInt8(ascii: "[") {
            i += 1
            var colons = 0
            while i < end && buffer[i] != UInt8(ascii: "]") {
                let byte = buffer[i]
                if byte == ASCII.colon {
                    colons += 1
                } else if ASCII.hexValue(byte) == nil && byte != UInt8(ascii: ".") {
                    return false
                }
                i += 1
            }
            guard i < end, colons >= 2 else { return false }
            i += 1
        } else {
            while i < end && buffer[i] != ASCII.colon {
                let byte = buffer[i]
                if byte == UInt8(ascii: "%") {
                    guard i + 2 < end, ASCII.hexValue(buffer[i + 1]) != nil, ASCII.hexValue(buffer[i + 2]) != nil
                    else { return false }
                    i += 3
                    continue
                }
                guard ASCII.isRegNameByte(byte) else { return false }
                i += 1
            }
            guard i > start else { return false }
        }
        if i == end { return true }
        guard buffer[i] == ASCII.colon else { return false }
        i += 1
        let portStart = i
        var port = 0
        while i < end && ASCII.isDigit(buffer[i]) && i - portStart < 5 {
            port = port * 10 + Int(buffer[i] &- 0x30)
            i += 1
        }
        return i == end && i > portStart && port <= 65535
    }

    /// Calls `body` with the bounds of each non-empty, OWS-trimmed element of a comma list
    /// (RFC 9110 §5.6.1: empty elements are ignored).
    @inline(__always)
    static func forEachListElement(
        _ buffer: UnsafeBufferPointer<UInt8>, _ start: Int, _ end: Int, _ body: (Int, Int) -> Void
    ) {
        var i = start
        while i < end {
            var elementEnd = i
            while elementEnd < end && buffer[elementEnd] != UInt8(ascii: ",") { elementEnd += 1 }
            var s = i
            var e = elementEnd
            while s < e && ASCII.isWhitespace(buffer[s]) { s += 1 }
            while e > s && ASCII.isWhitespace(buffer[e - 1]) { e -= 1 }
            if s < e { body(s, e) }
            i = elementEnd + 1
        }
    }

    /// ASCII case-insensitive comparison of `buffer[start..<end]` with a lowercase literal.
    @inline(__always)
    static func equalsIgnoringCase(_ buffer: UnsafeBufferPointer<UInt8>, _ start: Int, _ end: Int, _ literal: StaticString)
        -> Bool
    {
        guard end - start == literal.utf8CodeUnitCount else { return false }
        let expected = literal.utf8Start
        for k in 0..<(end - start) {
            var byte = buffer[start + k]
            if byte &- 0x41 < 26 { byte |= 0x20 }
            if byte != expected[k] { return false }
        }
        return true
    }

    /// Bytes as a String; invalid UTF-8 (obs-text that is not UTF-8) becomes U+FFFD.
    @inline(__always)
    static func string(_ buffer: UnsafeBufferPointer<UInt8>, _ start: Int, _ end: Int) -> String {
        String(decoding: UnsafeBufferPointer(rebasing: buffer[start..<end]), as: UTF8.self)
    }

    /// The 400 for a byte that does not belong where it is, naming the usual suspects.
    static func unexpected(_ byte: UInt8, in place: String) -> HTTPParseError {
        switch byte {
        case ASCII.cr: .badRequest("bare CR in \(place) (CR must be followed by LF)")
        case 0: .badRequest("NUL byte in \(place)")
        case ASCII.space, ASCII.tab: .badRequest("unexpected whitespace in \(place)")
        case ..<0x20, 0x7F: .badRequest("control character in \(place)")
        default: .badRequest("invalid character in \(place)")
        }
    }
}
