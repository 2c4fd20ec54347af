/// One SQLite value: the five storage classes.
public enum SQLiteValue: Sendable, Hashable {
    case null
    case integer(Int64)
    case real(Double)
    case text(String)
    case blob([UInt8])
}

// MARK: - Conveniences for bindings: `["name", 42, 1.5, nil, SQLiteValue(optionalString)]`

extension SQLiteValue: ExpressibleByStringLiteral {
    public init(stringLiteral value: String) { self = .text(value) }
}

extension SQLiteValue: ExpressibleByIntegerLiteral {
    public init(integerLiteral value: Int64) { self = .integer(value) }
}

extension SQLiteValue: ExpressibleByFloatLiteral {
    public init(floatLiteral value: Double) { self = .real(value) }
}

extension SQLiteValue: ExpressibleByNilLiteral {
    public init(nilLiteral: ()) { self = .null }
}

extension SQLiteValue: ExpressibleByBooleanLiteral {
    public init(booleanLiteral value: Bool) { self.init(value) }
}

extension SQLiteValue {
    public init(_ v: String?) { self = v.map { .text($0) } ?? .null }
    public init(_ v: Int?) { self = v.map { .integer(Int64($0)) } ?? .null }
    public init(_ v: Int64?) { self = v.map { .integer($0) } ?? .null }
    public init(_ v: Double?) { self = v.map { .real($0) } ?? .null }
    public init(_ v: [UInt8]?) { self = v.map { .blob($0) } ?? .null }
    /// SQLite has no boolean storage class: true is 1, false is 0.
    public init(_ v: Bool) { self = .integer(v ? 1 : 0) }
}

// MARK: - Typed reads, shared by `Row` (and mirrored by `RowCursor`)
//
// Rule: nil for NULL and for a storage class that does not convert without loss or guessing.
// INTEGER widens to Double; TEXT gives its UTF-8 bytes as a blob; nothing else converts.

extension SQLiteValue {
    public var isNull: Bool { if case .null = self { true } else { false } }

    public var stringValue: String? { if case .text(let s) = self { s } else { nil } }

    public var int64Value: Int64? { if case .integer(let v) = self { v } else { nil } }

    public var intValue: Int? { int64Value.flatMap { Int(exactly: $0) } }

    public var doubleValue: Double? {
        switch self {
        case .real(let d): d
        case .integer(let v): Double(v)
        default: nil
        }
    }

    /// INTEGER only: 0 is false, anything else is true.
    public var boolValue: Bool? { int64Value.map { $0 != 0 } }

    public var blobValue: [UInt8]? {
        switch self {
        case .blob(let b): b
        case .text(let s): Array(s.utf8)
        default: nil
        }
    }
}
