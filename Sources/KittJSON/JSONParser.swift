/// A parse failure. `offset` is the 0-based byte index in the input where the problem was found.
public struct JSONParseError: Error, Sendable, Equatable, CustomStringConvertible {
    public let message: String
    public let offset: Int
    public init(message: String, offset: Int) {
        self.message = message
        self.offset = offset
    }
    /// e.g. "unexpected character '}' (expected object key) at byte 7"
    public var description: String { "\(message) at byte \(offset)" }
}

extension JSON {
    /// Strict RFC 8259 parse of exactly one value with optional surrounding whitespace.
    /// Integers without fraction/exponent that fit `Int` become `.int` (so `-0` is `.int(0)`);
    /// every other number becomes `.double`; numbers overflowing `Double` are rejected.
    /// Containers nested deeper than `maxDepth` are rejected. Linear time; never traps.
    /// A key repeated in one object: the last value wins, or with `uniqueKeys` the parse fails
    /// (what kitt stores and serves back as sent must never carry a key twice).
    public init(parsing bytes: [UInt8], maxDepth: Int = 256, uniqueKeys: Bool = false) throws(JSONParseError) {
        let result: Result<JSON, JSONParseError> = bytes.withUnsafeBufferPointer { buf in
            var parser = JSONParser(buf, maxDepth: maxDepth, uniqueKeys: uniqueKeys)
            do throws(JSONParseError) { return .success(try parser.parseDocument()) } catch { return .failure(error) }
        }
        self = try result.get()
    }

    /// Parses the UTF-8 of `string` (same rules as the byte version, `maxDepth` 256).
    public init(parsing string: String) throws(JSONParseError) {
        var string = string
        let result: Result<JSON, JSONParseError> = string.withUTF8 { buf in
            var parser = JSONParser(buf, maxDepth: 256)
            do throws(JSONParseError) { return .success(try parser.parseDocument()) } catch { return .failure(error) }
        }
        self = try result.get()
    }
}

private extension UInt8 {
    static let quote = UInt8(ascii: "\"")
    static let backslash = UInt8(ascii: "\\")
    static let zero = UInt8(ascii: "0")
    static let nine = UInt8(ascii: "9")
    @inline(__always) var isDigit: Bool { self >= .zero && self <= .nine }
}

struct JSONParser {
    private let buf: UnsafeBufferPointer<UInt8>
    private let count: Int
    private var pos = 0
    private let maxDepth: Int
    private let uniqueKeys: Bool
    private var depth = 0
    /// Reused for strings containing escapes.
    private var scratch: [UInt8] = []

    init(_ buf: UnsafeBufferPointer<UInt8>, maxDepth: Int, uniqueKeys: Bool = false) {
        self.buf = buf
        self.count = buf.count
        self.maxDepth = maxDepth
        self.uniqueKeys = uniqueKeys
    }

    mutating func parseDocument() throws(JSONParseError) -> JSON {
        skipWhitespace()
        let value = try parseValue()
        skipWhitespace()
        if pos < count { throw unexpected("end of input") }
        return value
    }

    // MARK: Errors

    private static func describe(_ b: UInt8) -> String {
        if b >= 0x21 && b <= 0x7E { return "character '\(Character(Unicode.Scalar(b)))'" }
        return "byte 0x" + hex2(b)
    }

    private static func hex2(_ b: UInt8) -> String {
        let s = String(b, radix: 16, uppercase: true)
        return s.count == 1 ? "0" + s : s
    }

    /// Error for the byte at `pos` (or end of input).
    private func unexpected(_ expected: String) -> JSONParseError {
        if pos >= count { return JSONParseError(message: "unexpected end of input (expected \(expected))", offset: pos) }
        return JSONParseError(message: "unexpected \(Self.describe(buf[pos])) (expected \(expected))", offset: pos)
    }

    // MARK: Values

    @inline(__always) private mutating func skipWhitespace() {
        while pos < count {
            switch buf[pos] {
            case 0x20, 0x0A, 0x0D, 0x09: pos += 1
            default: return
            }
        }
    }

    private mutating func parseValue() throws(JSONParseError) -> JSON {
        guard pos < count else { throw unexpected("value") }
        switch buf[pos] {
        case UInt8(ascii: "{"): return try parseObject()
        case UInt8(ascii: "["): return try parseArray()
        case .quote: return .string(try parseString())
        case UInt8(ascii: "t"): try parseLiteral("true"); return .bool(true)
        case UInt8(ascii: "f"): try parseLiteral("false"); return .bool(false)
        case UInt8(ascii: "n"): try parseLiteral("null"); return .null
        case UInt8(ascii: "-"), .zero ... .nine: return try parseNumber()
        default: throw unexpected("value")
        }
    }

    private mutating func parseLiteral(_ literal: StaticString) throws(JSONParseError) {
        let bytes = UnsafeBufferPointer(start: literal.utf8Start, count: literal.utf8CodeUnitCount)
        for b in bytes {
            guard pos < count, buf[pos] == b else { throw unexpected("'\(literal)'") }
            pos += 1
        }
    }

    private mutating func enter() throws(JSONParseError) {
        depth += 1
        if depth > maxDepth {
            throw JSONParseError(message: "nesting depth exceeds maximum of \(maxDepth)", offset: pos)
        }
        pos += 1
    }

    private mutating func parseArray() throws(JSONParseError) -> JSON {
        try enter()
        var elements: [JSON] = []
        skipWhitespace()
        if pos < count && buf[pos] == UInt8(ascii: "]") {
            pos += 1
            depth -= 1
            return .array(elements)
        }
        while true {
            elements.append(try parseValue())
            skipWhitespace()
            guard pos < count else { throw unexpected("',' or ']'") }
            let b = buf[pos]
            if b == UInt8(ascii: ",") {
                pos += 1
                skipWhitespace()
            } else if b == UInt8(ascii: "]") {
                pos += 1
                break
            } else {
                throw unexpected("',' or ']'")
            }
        }
        depth -= 1
        return .array(elements)
    }

    private mutating func parseObject() throws(JSONParseError) -> JSON {
        try enter()
        var object = JSONObject()
        skipWhitespace()
        if pos < count && buf[pos] == UInt8(ascii: "}") {
            pos += 1
            depth -= 1
            return .object(object)
        }
        while true {
            guard pos < count, buf[pos] == .quote else { throw unexpected("object key") }
            let keyStart = pos
            let key = try parseString()
            skipWhitespace()
            guard pos < count, buf[pos] == UInt8(ascii: ":") else { throw unexpected("':' after object key") }
            pos += 1
            skipWhitespace()
            let value = try parseValue()
            if object.setParsed(key, value), uniqueKeys {
                throw JSONParseError(message: "duplicate key '\(key)'", offset: keyStart)
            }
            skipWhitespace()
            guard pos < count else { throw unexpected("',' or '}'") }
            let b = buf[pos]
            if b == UInt8(ascii: ",") {
                pos += 1
                skipWhitespace()
            } else if b == UInt8(ascii: "}") {
                pos += 1
                break
            } else {
                throw unexpected("',' or '}'")
            }
        }
        depth -= 1
        return .object(object)
    }

    // MARK: Numbers

    @inline(__always) private mutating func skipDigits() {
        while pos < count && buf[pos].isDigit { pos += 1 }
    }

    private mutating func parseNumber() throws(JSONParseError) -> JSON {
        let start = pos
        let negative = buf[pos] == UInt8(ascii: "-")
        if negative { pos += 1 }
        guard pos < count, buf[pos].isDigit else { throw unexpected("digit") }

        // Integer part, accumulated as a negative value so Int.min fits.
        var value = 0
        var overflow = false
        if buf[pos] == .zero {
            pos += 1
            if pos < count && buf[pos].isDigit {
                throw JSONParseError(message: "leading zeros are not allowed in numbers", offset: pos - 1)
            }
        } else {
            while pos < count {
                let b = buf[pos]
                guard b.isDigit else { break }
                if !overflow {
                    let (m, o1) = value.multipliedReportingOverflow(by: 10)
                    let (s, o2) = m.subtractingReportingOverflow(Int(b &- .zero))
                    if o1 || o2 { overflow = true } else { value = s }
                }
                pos += 1
            }
        }

        var isInteger = true
        if pos < count && buf[pos] == UInt8(ascii: ".") {
            isInteger = false
            pos += 1
            guard pos < count, buf[pos].isDigit else { throw unexpected("digit after decimal point") }
            skipDigits()
        }
        if pos < count && (buf[pos] == UInt8(ascii: "e") || buf[pos] == UInt8(ascii: "E")) {
            isInteger = false
            pos += 1
            if pos < count && (buf[pos] == UInt8(ascii: "+") || buf[pos] == UInt8(ascii: "-")) { pos += 1 }
            guard pos < count, buf[pos].isDigit else { throw unexpected("digit in exponent") }
            skipDigits()
        }

        if isInteger && !overflow {
            if negative { return .int(value) }
            if value != Int.min { return .int(-value) }
        }
        let text = String(decoding: UnsafeBufferPointer(rebasing: buf[start..<pos]), as: UTF8.self)
        guard let d = Double(text), d.isFinite else {
            throw JSONParseError(message: "number out of range", offset: start)
        }
        return .double(d)
    }

    // MARK: Strings

    /// `pos` is at the opening quote; on return it is just past the closing quote.
    private mutating func parseString() throws(JSONParseError) -> String {
        let open = pos
        pos += 1
        var runStart = pos
        var escaped = false
        while true {
            // Fast scan over plain ASCII.
            while pos < count {
                let b = buf[pos]
                if b == .quote || b == .backslash || b < 0x20 || b >= 0x80 { break }
                pos += 1
            }
            guard pos < count else {
                throw JSONParseError(message: "unterminated string", offset: open)
            }
            let b = buf[pos]
            if b == .quote {
                let run = UnsafeBufferPointer(rebasing: buf[runStart..<pos])
                pos += 1
                if !escaped { return String(decoding: run, as: UTF8.self) }
                scratch.append(contentsOf: run)
                return String(decoding: scratch, as: UTF8.self)
            } else if b == .backslash {
                if !escaped {
                    escaped = true
                    scratch.removeAll(keepingCapacity: true)
                }
                scratch.append(contentsOf: UnsafeBufferPointer(rebasing: buf[runStart..<pos]))
                try parseEscape()
                runStart = pos
            } else if b < 0x20 {
                throw JSONParseError(
                    message: "unescaped control character U+00\(Self.hex2(b)) in string", offset: pos)
            } else {
                try skipUTF8Sequence()
            }
        }
    }

    /// Validates one multi-byte UTF-8 sequence at `pos` (lead byte >= 0x80) and skips it.
    private mutating func skipUTF8Sequence() throws(JSONParseError) {
        @inline(__always) func isCont(_ i: Int, _ lo: UInt8 = 0x80, _ hi: UInt8 = 0xBF) -> Bool {
            i < count && buf[i] >= lo && buf[i] <= hi
        }
        let lead = buf[pos]
        let length: Int
        switch lead {
        case 0xC2...0xDF: length = isCont(pos + 1) ? 2 : 0
        case 0xE0: length = isCont(pos + 1, 0xA0) && isCont(pos + 2) ? 3 : 0
        case 0xE1...0xEC, 0xEE, 0xEF: length = isCont(pos + 1) && isCont(pos + 2) ? 3 : 0
        case 0xED: length = isCont(pos + 1, 0x80, 0x9F) && isCont(pos + 2) ? 3 : 0  // no surrogates
        case 0xF0: length = isCont(pos + 1, 0x90) && isCont(pos + 2) && isCont(pos + 3) ? 4 : 0
        case 0xF1...0xF3: length = isCont(pos + 1) && isCont(pos + 2) && isCont(pos + 3) ? 4 : 0
        case 0xF4: length = isCont(pos + 1, 0x80, 0x8F) && isCont(pos + 2) && isCont(pos + 3) ? 4 : 0
        default: length = 0
        }
        guard length > 0 else { throw JSONParseError(message: "invalid UTF-8 in string", offset: pos) }
        pos += length
    }

    /// `pos` is at the backslash; appends the decoded bytes to `scratch`.
    private mutating func parseEscape() throws(JSONParseError) {
        let start = pos
        pos += 1
        guard pos < count else { throw unexpected("escape character") }
        let c = buf[pos]
        pos += 1
        switch c {
        case .quote, .backslash, UInt8(ascii: "/"): scratch.append(c)
        case UInt8(ascii: "b"): scratch.append(0x08)
        case UInt8(ascii: "f"): scratch.append(0x0C)
        case UInt8(ascii: "n"): scratch.append(0x0A)
        case UInt8(ascii: "r"): scratch.append(0x0D)
        case UInt8(ascii: "t"): scratch.append(0x09)
        case UInt8(ascii: "u"):
            let unit = try parseHex4()
            var scalar = UInt32(unit)
            if unit >= 0xD800 && unit <= 0xDBFF {
                guard pos + 1 < count, buf[pos] == .backslash, buf[pos + 1] == UInt8(ascii: "u") else {
                    throw Self.unpaired(unit, at: start)
                }
                pos += 2
                let low = try parseHex4()
                guard low >= 0xDC00 && low <= 0xDFFF else { throw Self.unpaired(unit, at: start) }
                scalar = 0x10000 + ((UInt32(unit) - 0xD800) << 10) + (UInt32(low) - 0xDC00)
            } else if unit >= 0xDC00 && unit <= 0xDFFF {
                throw Self.unpaired(unit, at: start)
            }
            appendUTF8(scalar)
        default:
            throw JSONParseError(message: "invalid escape sequence '\\\(Self.describeEscape(c))'", offset: start)
        }
    }

    private static func describeEscape(_ b: UInt8) -> String {
        b >= 0x21 && b <= 0x7E ? String(Character(Unicode.Scalar(b))) : "x" + hex2(b)
    }

    private static func unpaired(_ unit: UInt16, at offset: Int) -> JSONParseError {
        let hex = String(unit, radix: 16)
        return JSONParseError(message: "unpaired UTF-16 surrogate '\\u\(hex)' in string", offset: offset)
    }

    private mutating func parseHex4() throws(JSONParseError) -> UInt16 {
        var v: UInt16 = 0
        for _ in 0..<4 {
            guard pos < count else { throw unexpected("hex digit") }
            let b = buf[pos]
            let d: UInt8
            switch b {
            case .zero ... .nine: d = b - .zero
            case UInt8(ascii: "a")...UInt8(ascii: "f"): d = b - UInt8(ascii: "a") + 10
            case UInt8(ascii: "A")...UInt8(ascii: "F"): d = b - UInt8(ascii: "A") + 10
            default: throw unexpected("hex digit")
            }
            v = v << 4 | UInt16(d)
            pos += 1
        }
        return v
    }

    private mutating func appendUTF8(_ s: UInt32) {
        switch s {
        case ..<0x80:
            scratch.append(UInt8(s))
        case ..<0x800:
            scratch.append(UInt8(0xC0 | (s >> 6)))
            scratch.append(UInt8(0x80 | (s & 0x3F)))
        case ..<0x10000:
            scratch.append(UInt8(0xE0 | (s >> 12)))
            scratch.append(UInt8(0x80 | ((s >> 6) & 0x3F)))
            scratch.append(UInt8(0x80 | (s & 0x3F)))
        default:
            scratch.append(UInt8(0xF0 | (s >> 18)))
            scratch.append(UInt8(0x80 | ((s >> 12) & 0x3F)))
            scratch.append(UInt8(0x80 | ((s >> 6) & 0x3F)))
            scratch.append(UInt8(0x80 | (s & 0x3F)))
        }
    }
}
