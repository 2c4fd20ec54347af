// TEMPORARY stand-in until the real KittJSON lands (the merge deletes this file).
public enum JSON: Sendable, Hashable, ExpressibleByStringLiteral, ExpressibleByDictionaryLiteral {
    case null
    case bool(Bool)
    case int(Int)
    case double(Double)
    case string(String)
    case array([JSON])
    case object([String: JSON])
    public init(stringLiteral value: String) { self = .string(value) }
    public init(dictionaryLiteral elements: (String, JSON)...) { self = .object(Dictionary(uniqueKeysWithValues: elements)) }
    public func write(into buffer: inout [UInt8]) {
        switch self {
        case .string(let s): buffer += Array("\"\(s)\"".utf8)
        case .object(let o):
            buffer += Array("{".utf8)
            for (i, (k, v)) in o.enumerated() { if i > 0 { buffer.append(44) }; buffer += Array("\"\(k)\":".utf8); v.write(into: &buffer) }
            buffer += Array("}".utf8)
        default: buffer += Array("null".utf8)
        }
    }
}
