// KittJSON: a small, strict, allocation-conscious JSON value type, parser and writer.
// No Foundation: parsing works on bytes, writing appends to a caller-owned [UInt8].

/// A JSON value.
///
/// Equality is structural: `.int(3) != .double(3.0)`, objects compare as unordered
/// key/value sets, `.raw` compares its bytes verbatim (it is never parsed).
public enum JSON: Sendable, Hashable {
    case null
    case bool(Bool)
    /// A number literal without fraction/exponent that fits `Int`.
    case int(Int)
    /// Any other number. Non-finite values serialize as `null`.
    case double(Double)
    case string(String)
    case array([JSON])
    case object(JSONObject)
    /// Pre-serialized, known-valid JSON written verbatim (for splicing stored documents into responses).
    case raw(RawJSON)
}

/// Pre-serialized JSON bytes. `init(trusted:)` does not validate: the caller promises the bytes
/// are exactly one valid JSON value (surrounding whitespace allowed).
public struct RawJSON: Sendable, Hashable {
    public let bytes: [UInt8]
    public init(trusted bytes: [UInt8]) { self.bytes = bytes }
    /// Validating alternative to `init(trusted:)`: throws unless `bytes` is one valid JSON value.
    public init(validating bytes: [UInt8], maxDepth: Int = 256) throws(JSONParseError) {
        _ = try JSON(parsing: bytes, maxDepth: maxDepth)
        self.bytes = bytes
    }
}

// MARK: - Literals

extension JSON: ExpressibleByStringLiteral, ExpressibleByIntegerLiteral, ExpressibleByFloatLiteral,
    ExpressibleByBooleanLiteral, ExpressibleByArrayLiteral, ExpressibleByDictionaryLiteral,
    ExpressibleByNilLiteral
{
    public init(stringLiteral value: String) { self = .string(value) }
    public init(integerLiteral value: Int) { self = .int(value) }
    public init(floatLiteral value: Double) { self = .double(value) }
    public init(booleanLiteral value: Bool) { self = .bool(value) }
    public init(arrayLiteral elements: JSON...) { self = .array(elements) }
    /// Duplicate keys: last one wins (keeps first position).
    public init(dictionaryLiteral elements: (String, JSON)...) { self = .object(JSONObject(elements)) }
    public init(nilLiteral: ()) { self = .null }
}

// MARK: - Serialization

extension JSON: CustomStringConvertible {
    /// Compact serialization; `.raw` content is left verbatim.
    public func serialized() -> [UInt8] {
        var buffer: [UInt8] = []
        buffer.reserveCapacity(estimatedSize)
        write(into: &buffer)
        return buffer
    }

    /// Appends the compact serialization to `buffer`.
    public func write(into buffer: inout [UInt8]) {
        switch self {
        case .null: JSONWriter.appendNull(into: &buffer)
        case .bool(let b): JSONWriter.appendBool(b, into: &buffer)
        case .int(let i): JSONWriter.writeInt(i, into: &buffer)
        case .double(let d): JSONWriter.writeDouble(d, into: &buffer)
        case .string(let s): JSONWriter.writeString(s, into: &buffer)
        case .array(let elements):
            buffer.append(UInt8(ascii: "["))
            var first = true
            for element in elements {
                if first { first = false } else { buffer.append(UInt8(ascii: ",")) }
                element.write(into: &buffer)
            }
            buffer.append(UInt8(ascii: "]"))
        case .object(let object): object.write(into: &buffer)
        case .raw(let raw): buffer.append(contentsOf: raw.bytes)
        }
    }

    /// The compact serialization as a `String`.
    public var jsonString: String { String(decoding: serialized(), as: UTF8.self) }

    public var description: String { jsonString }

    /// First guess for `reserveCapacity`: exact for strings and raw bytes (what large
    /// responses are made of: list pages and compares of stored documents), a fixed guess
    /// for numbers, summed over arrays and objects. O(nodes), against O(bytes) for writing,
    /// and it saves the copies of growing a 150 KB buffer from a few hundred bytes.
    private var estimatedSize: Int {
        switch self {
        case .string(let s): return s.utf8.count + 2
        case .array(let a): return a.reduce(2) { $0 + $1.estimatedSize + 1 }
        case .object(let o): return o.reduce(2) { $0 + $1.key.utf8.count + 4 + $1.value.estimatedSize }
        case .raw(let r): return r.bytes.count
        default: return 24
        }
    }
}

// MARK: - Accessors

extension JSON {
    public var isNull: Bool { if case .null = self { true } else { false } }

    public var stringValue: String? { if case .string(let s) = self { s } else { nil } }

    public var boolValue: Bool? { if case .bool(let b) = self { b } else { nil } }

    /// `.int`, or a `.double` that is integral and in `Int` range.
    public var intValue: Int? {
        switch self {
        case .int(let i): i
        case .double(let d): JSON.exactInt(d)
        default: nil
        }
    }

    /// `Int(exactly:)` without libm (this module links nothing; `Int(exactly:)` calls `trunc`/`floor`).
    private static func exactInt(_ d: Double) -> Int? {
        // [-2^63, 2^63): both bounds are exactly representable; NaN fails the comparison.
        guard d >= -9223372036854775808.0 && d < 9223372036854775808.0 else { return nil }
        let i = Int(d)  // truncating conversion, in range
        return Double(i) == d ? i : nil
    }

    /// `.int` (converted, may round above 2^53) or `.double`.
    public var doubleValue: Double? {
        switch self {
        case .int(let i): Double(i)
        case .double(let d): d
        default: nil
        }
    }

    public var arrayValue: [JSON]? { if case .array(let a) = self { a } else { nil } }

    public var objectValue: JSONObject? { if case .object(let o) = self { o } else { nil } }

    /// `nil` unless this is an object containing `key`.
    public subscript(key: String) -> JSON? {
        if case .object(let o) = self { o[key] } else { nil }
    }

    /// "null", "boolean", "integer", "number", "string", "array" or "object", for error messages.
    /// For `.raw`, derived from the first non-whitespace byte.
    public var typeName: String {
        switch self {
        case .null: "null"
        case .bool: "boolean"
        case .int: "integer"
        case .double: "number"
        case .string: "string"
        case .array: "array"
        case .object: "object"
        case .raw(let r): r.typeName
        }
    }
}

extension RawJSON {
    var typeName: String {
        var i = 0
        while i < bytes.count, bytes[i] == 0x20 || bytes[i] == 0x09 || bytes[i] == 0x0A || bytes[i] == 0x0D { i += 1 }
        guard i < bytes.count else { return "null" }
        switch bytes[i] {
        case UInt8(ascii: "{"): return "object"
        case UInt8(ascii: "["): return "array"
        case UInt8(ascii: "\""): return "string"
        case UInt8(ascii: "t"), UInt8(ascii: "f"): return "boolean"
        case UInt8(ascii: "n"): return "null"
        default:
            while i < bytes.count {
                switch bytes[i] {
                case UInt8(ascii: "."), UInt8(ascii: "e"), UInt8(ascii: "E"): return "number"
                case UInt8(ascii: "-"), UInt8(ascii: "0")...UInt8(ascii: "9"): i += 1
                default: return "integer"
                }
            }
            return "integer"
        }
    }
}
