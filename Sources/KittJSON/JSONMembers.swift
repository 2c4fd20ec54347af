/// The top-level members of a JSON object, found by scanning its bytes without decoding
/// them: for code that stores or serves part of a document exactly as sent. Meant for bytes
/// that already parsed; anything unexpected gives nil, never a trap.
public enum JSONMembers {
    public struct Member: Sendable, Equatable {
        /// The key as written, quotes included.
        public let key: Range<Int>
        public let value: Range<Int>
    }

    /// The members of the object `bytes` holds (whitespace around it allowed), in order.
    public static func of(object bytes: UnsafeRawBufferPointer) -> [Member]? {
        var i = skipSpace(bytes, 0)
        guard i < bytes.count, bytes[i] == UInt8(ascii: "{") else { return nil }
        i = skipSpace(bytes, i + 1)
        var members: [Member] = []
        if i < bytes.count, bytes[i] == UInt8(ascii: "}") { return members }
        while true {
            guard i < bytes.count, bytes[i] == UInt8(ascii: "\""), let keyEnd = endOfString(bytes, i) else { return nil }
            let keyStart = i
            i = skipSpace(bytes, keyEnd)
            guard i < bytes.count, bytes[i] == UInt8(ascii: ":") else { return nil }
            let valueStart = skipSpace(bytes, i + 1)
            guard let valueEnd = endOfValue(bytes, valueStart) else { return nil }
            members.append(Member(key: keyStart..<keyEnd, value: valueStart..<valueEnd))
            i = skipSpace(bytes, valueEnd)
            guard i < bytes.count else { return nil }
            if bytes[i] == UInt8(ascii: "}") { return members }
            guard bytes[i] == UInt8(ascii: ",") else { return nil }
            i = skipSpace(bytes, i + 1)
        }
    }

    /// A quoted key (quotes included) as text; escapes are decoded.
    public static func decodedKey(_ quoted: UnsafeRawBufferPointer) -> String? {
        guard quoted.count >= 2 else { return nil }
        if !quoted.contains(UInt8(ascii: "\\")) {
            return String(decoding: quoted.dropFirst().dropLast(), as: UTF8.self)
        }
        return (try? JSON(parsing: Array(quoted)))?.stringValue
    }

    static func isSpace(_ byte: UInt8) -> Bool { byte == 0x20 || byte == 0x0A || byte == 0x0D || byte == 0x09 }

    static func skipSpace(_ bytes: UnsafeRawBufferPointer, _ from: Int) -> Int {
        var i = from
        while i < bytes.count, isSpace(bytes[i]) { i += 1 }
        return i
    }

    /// The index after the closing quote of the string opening at `from`.
    static func endOfString(_ bytes: UnsafeRawBufferPointer, _ from: Int) -> Int? {
        var i = from + 1
        while i < bytes.count {
            switch bytes[i] {
            case UInt8(ascii: "\\"): i += 2
            case UInt8(ascii: "\""): return i + 1
            default: i += 1
            }
        }
        return nil
    }

    /// The index after the value starting at `from` (containers skipped by depth, strings whole).
    static func endOfValue(_ bytes: UnsafeRawBufferPointer, _ from: Int) -> Int? {
        guard from < bytes.count else { return nil }
        switch bytes[from] {
        case UInt8(ascii: "\""):
            return endOfString(bytes, from)
        case UInt8(ascii: "{"), UInt8(ascii: "["):
            var depth = 0
            var i = from
            while i < bytes.count {
                switch bytes[i] {
                case UInt8(ascii: "\""):
                    guard let end = endOfString(bytes, i) else { return nil }
                    i = end
                    continue
                case UInt8(ascii: "{"), UInt8(ascii: "["):
                    depth += 1
                case UInt8(ascii: "}"), UInt8(ascii: "]"):
                    depth -= 1
                    if depth == 0 { return i + 1 }
                default:
                    break
                }
                i += 1
            }
            return nil
        default:
            // A number, true, false or null: up to the next delimiter.
            var i = from
            while i < bytes.count, !isSpace(bytes[i]), bytes[i] != UInt8(ascii: ","), bytes[i] != UInt8(ascii: "}"),
                bytes[i] != UInt8(ascii: "]")
            {
                i += 1
            }
            return i > from ? i : nil
        }
    }
}
