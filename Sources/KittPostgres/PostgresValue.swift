/// A parameter for `PQexecParams`, sent in text format (the server parses it as the
/// parameter's inferred type, so `$1` compared with a bigint column takes "42").
public enum PostgresValue: Sendable, Hashable {
    case null
    case text(String)
    case integer(Int64)
    case double(Double)
    case bool(Bool)
    case bytea([UInt8])

    /// The text the server receives; nil for NULL. PostgreSQL text cannot hold NUL, so a
    /// string containing one is refused here with a clear error instead of being cut short.
    func wireText() throws(PostgresError) -> String? {
        switch self {
        case .null: return nil
        case .text(let s):
            guard !s.utf8.contains(0) else { throw .nulInText }
            return s
        case .integer(let v): return String(v)
        case .double(let d):
            if d.isNaN { return "NaN" }
            if d.isInfinite { return d < 0 ? "-Infinity" : "Infinity" }
            return "\(d)"  // Swift's shortest round-trip form ("1e+308"); PostgreSQL parses it exactly.
        case .bool(let b): return b ? "t" : "f"
        case .bytea(let bytes): return "\\x" + Hex.encode(bytes)
        }
    }
}

extension PostgresValue: ExpressibleByStringLiteral {
    public init(stringLiteral value: String) { self = .text(value) }
}

extension PostgresValue: ExpressibleByIntegerLiteral {
    public init(integerLiteral value: Int64) { self = .integer(value) }
}

extension PostgresValue: ExpressibleByFloatLiteral {
    public init(floatLiteral value: Double) { self = .double(value) }
}

extension PostgresValue: ExpressibleByNilLiteral {
    public init(nilLiteral: ()) { self = .null }
}

extension PostgresValue: ExpressibleByBooleanLiteral {
    public init(booleanLiteral value: Bool) { self = .bool(value) }
}

extension PostgresValue {
    public init(_ v: String?) { self = v.map { .text($0) } ?? .null }
    public init(_ v: Int?) { self = v.map { .integer(Int64($0)) } ?? .null }
    public init(_ v: Int64?) { self = v.map { .integer($0) } ?? .null }
    public init(_ v: Double?) { self = v.map { .double($0) } ?? .null }
    public init(_ v: Bool?) { self = v.map { .bool($0) } ?? .null }
}

/// Lowercase hex for bytea's text form (`\x0a1b`) and back.
enum Hex {
    private static let digits = Array("0123456789abcdef".utf8)

    static func encode(_ bytes: [UInt8]) -> String {
        var out: [UInt8] = []
        out.reserveCapacity(bytes.count * 2)
        for b in bytes {
            out.append(digits[Int(b >> 4)])
            out.append(digits[Int(b & 0xF)])
        }
        return String(decoding: out, as: UTF8.self)
    }

    /// Nil for an odd length or a non-hex digit.
    static func decode<C: Collection>(_ text: C) -> [UInt8]? where C.Element == UInt8 {
        guard text.count % 2 == 0 else { return nil }
        var out: [UInt8] = []
        out.reserveCapacity(text.count / 2)
        var high: UInt8?
        for c in text {
            let v: UInt8
            switch c {
            case 0x30...0x39: v = c - 0x30
            case 0x61...0x66: v = c - 0x61 + 10
            case 0x41...0x46: v = c - 0x41 + 10
            default: return nil
            }
            if let h = high {
                out.append(h << 4 | v)
                high = nil
            } else {
                high = v
            }
        }
        return out
    }
}
