import KittBase
/// An ordered list of header fields. Names compare case-insensitively; each field keeps
/// a lowercased copy of its name so lookups do not lowercase on every call.
public struct HTTPHeaders: Sendable, Sequence, ExpressibleByDictionaryLiteral {
    public struct Field: Sendable, Equatable {
        public let name: String
        public let value: String
        let lowercasedName: String
    }

    private var fields: [Field] = []

    public init() {}
    public init(dictionaryLiteral elements: (String, String)...) {
        for (name, value) in elements { add(name: name, value: value) }
    }

    public var count: Int { fields.count }
    public func makeIterator() -> IndexingIterator<[Field]> { fields.makeIterator() }

    /// The first value for `name`, or nil.
    public subscript(name: String) -> String? {
        let key = HTTPHeaders.lowercase(name)
        return fields.first { $0.lowercasedName == key }?.value
    }

    /// Every value for `name`, in order.
    public func values(for name: String) -> [String] {
        let key = HTTPHeaders.lowercase(name)
        return fields.filter { $0.lowercasedName == key }.map(\.value)
    }

    public func contains(_ name: String) -> Bool { self[name] != nil }

    public mutating func add(name: String, value: String) {
        fields.append(Field(name: name, value: value, lowercasedName: HTTPHeaders.lowercase(name)))
    }

    /// Header names are ASCII tokens: lowercase by bytes, and not at all when already lowercase.
    static func lowercase(_ name: String) -> String {
        let utf8 = name.utf8
        guard utf8.contains(where: { $0 >= 0x41 && $0 <= 0x5A }) else { return name }
        guard utf8.allSatisfy({ $0 < 0x80 }) else { return name.lowercased() }
        return String(decoding: utf8.map { $0 >= 0x41 && $0 <= 0x5A ? $0 | 0x20 : $0 }, as: UTF8.self)
    }

    /// Replaces every field named `name` with one field.
    public mutating func set(name: String, value: String) {
        remove(name: name)
        add(name: name, value: value)
    }

    public mutating func remove(name: String) {
        let key = HTTPHeaders.lowercase(name)
        fields.removeAll { $0.lowercasedName == key }
    }

    /// True when a comma-separated header (e.g. `Connection`) lists `token`, case-insensitively.
    public func hasToken(_ token: String, in name: String) -> Bool {
        let wanted = token.lowercased()
        return values(for: name).contains { value in
            value.split(separator: ",").contains { $0.trimmed().lowercased() == wanted }
        }
    }
}
