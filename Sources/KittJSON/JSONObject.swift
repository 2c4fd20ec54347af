/// Insertion-ordered JSON object: output keeps the order keys were added/parsed.
///
/// Setting an existing key replaces its value in place; a new key appends; setting `nil` removes.
/// Duplicate keys (parsing, literals, `init(_:)`): last value wins, first position kept.
/// Equality and hashing ignore order (JSON object semantics). Keys compare with Swift `String`
/// equality, i.e. canonically equivalent keys (NFC vs NFD) are the same key.
public struct JSONObject: Sendable, Hashable, Sequence, ExpressibleByDictionaryLiteral {
    public typealias Element = (key: String, value: JSON)

    private var _keys: [String] = []
    private var _values: [JSON] = []
    /// key → position; maintained only while count > indexThreshold (small objects scan linearly).
    private var _index: [String: Int] = [:]

    @inline(__always) private static var indexThreshold: Int { 12 }

    public init() {}

    /// Duplicate keys: last one wins (keeps first position).
    public init(_ pairs: [(String, JSON)]) {
        _keys.reserveCapacity(pairs.count)
        _values.reserveCapacity(pairs.count)
        for (key, value) in pairs { self[key] = value }
    }

    public init(dictionaryLiteral elements: (String, JSON)...) { self.init(elements) }

    public var keys: [String] { _keys }
    public var values: [JSON] { _values }
    public var count: Int { _keys.count }
    public var isEmpty: Bool { _keys.isEmpty }

    public subscript(key: String) -> JSON? {
        get {
            guard let i = position(of: key) else { return nil }
            return _values[i]
        }
        set {
            if let i = position(of: key) {
                if let newValue { _values[i] = newValue } else { remove(at: i) }
            } else if let newValue {
                appendNew(key, newValue)
            }
        }
    }

    /// Removes `key`, returning its value if present.
    @discardableResult
    public mutating func removeValue(forKey key: String) -> JSON? {
        guard let i = position(of: key) else { return nil }
        let old = _values[i]
        remove(at: i)
        return old
    }

    public mutating func reserveCapacity(_ n: Int) {
        _keys.reserveCapacity(n)
        _values.reserveCapacity(n)
    }

    // MARK: Sequence

    public struct Iterator: IteratorProtocol {
        private let object: JSONObject
        private var i = 0
        fileprivate init(_ object: JSONObject) { self.object = object }
        public mutating func next() -> (key: String, value: JSON)? {
            guard i < object._keys.count else { return nil }
            defer { i += 1 }
            return (object._keys[i], object._values[i])
        }
    }

    public func makeIterator() -> Iterator { Iterator(self) }
    public var underestimatedCount: Int { _keys.count }

    // MARK: Equatable / Hashable (order-insensitive)

    public static func == (lhs: JSONObject, rhs: JSONObject) -> Bool {
        guard lhs._keys.count == rhs._keys.count else { return false }
        if lhs._keys == rhs._keys { return lhs._values == rhs._values }
        for i in lhs._keys.indices {
            guard let v = rhs[lhs._keys[i]], v == lhs._values[i] else { return false }
        }
        return true
    }

    public func hash(into hasher: inout Hasher) {
        var acc: UInt = 0
        for i in _keys.indices {
            var h = Hasher()
            h.combine(_keys[i])
            h.combine(_values[i])
            acc &+= UInt(bitPattern: h.finalize())
        }
        hasher.combine(_keys.count)
        hasher.combine(acc)
    }

    // MARK: Internals

    private func position(of key: String) -> Int? {
        if _keys.count > Self.indexThreshold { return _index[key] }
        for i in _keys.indices where _keys[i] == key { return i }
        return nil
    }

    private mutating func appendNew(_ key: String, _ value: JSON) {
        _keys.append(key)
        _values.append(value)
        if _keys.count > Self.indexThreshold {
            if _index.isEmpty { rebuildIndex() } else { _index[key] = _keys.count - 1 }
        }
    }

    private mutating func remove(at i: Int) {
        _keys.remove(at: i)
        _values.remove(at: i)
        if _keys.count > Self.indexThreshold { rebuildIndex() } else { _index = [:] }
    }

    private mutating func rebuildIndex() {
        _index = [:]
        _index.reserveCapacity(_keys.count)
        for (i, key) in _keys.enumerated() { _index[key] = i }
    }

    /// Parser entry point: insert with last-wins semantics; true when `key` was already there.
    @discardableResult
    mutating func setParsed(_ key: String, _ value: JSON) -> Bool {
        if let i = position(of: key) {
            _values[i] = value
            return true
        }
        appendNew(key, value)
        return false
    }

    func write(into buffer: inout [UInt8]) {
        buffer.append(UInt8(ascii: "{"))
        for i in _keys.indices {
            if i > 0 { buffer.append(UInt8(ascii: ",")) }
            JSONWriter.writeString(_keys[i], into: &buffer)
            buffer.append(UInt8(ascii: ":"))
            _values[i].write(into: &buffer)
        }
        buffer.append(UInt8(ascii: "}"))
    }
}

extension JSONObject: CustomStringConvertible {
    public var description: String { JSON.object(self).jsonString }
}
