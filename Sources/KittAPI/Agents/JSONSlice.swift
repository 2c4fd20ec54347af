import KittJSON

/// Finds where a top-level member's value sits in JSON bytes, so an embedded document
/// (`result_data`) can be stored exactly as sent. Only for bytes that already parsed.
enum JSONSlice {
    /// The byte range of the value of `key` in the top-level object (the last occurrence,
    /// matching the parser's "last duplicate wins"); nil when absent.
    static func valueRange(of key: String, in bytes: [UInt8]) -> Range<Int>? {
        var i = 0
        skipWhitespace(bytes, &i)
        guard i < bytes.count, bytes[i] == UInt8(ascii: "{") else { return nil }
        i += 1
        var found: Range<Int>?
        while true {
            skipWhitespace(bytes, &i)
            guard i < bytes.count else { return found }
            if bytes[i] == UInt8(ascii: "}") { return found }
            if bytes[i] == UInt8(ascii: ",") { i += 1; continue }
            guard bytes[i] == UInt8(ascii: "\"") else { return nil }
            let keyStart = i
            guard skipString(bytes, &i) else { return nil }
            let keyBytes = Array(bytes[keyStart..<i])
            skipWhitespace(bytes, &i)
            guard i < bytes.count, bytes[i] == UInt8(ascii: ":") else { return nil }
            i += 1
            skipWhitespace(bytes, &i)
            let valueStart = i
            guard skipValue(bytes, &i) else { return nil }
            if decodedKey(keyBytes) == key { found = valueStart..<i }
        }
    }

    private static func decodedKey(_ quoted: [UInt8]) -> String? {
        if !quoted.contains(UInt8(ascii: "\\")) {
            return String(decoding: quoted.dropFirst().dropLast(), as: UTF8.self)
        }
        return (try? JSON(parsing: quoted))?.stringValue
    }

    private static func skipWhitespace(_ bytes: [UInt8], _ i: inout Int) {
        while i < bytes.count, bytes[i] == 0x20 || bytes[i] == 0x09 || bytes[i] == 0x0A || bytes[i] == 0x0D { i += 1 }
    }

    /// At an opening quote: moves past the closing one.
    private static func skipString(_ bytes: [UInt8], _ i: inout Int) -> Bool {
        i += 1
        while i < bytes.count {
            switch bytes[i] {
            case UInt8(ascii: "\\"): i += 2
            case UInt8(ascii: "\""): i += 1; return true
            default: i += 1
            }
        }
        return false
    }

    private static func skipValue(_ bytes: [UInt8], _ i: inout Int) -> Bool {
        guard i < bytes.count else { return false }
        switch bytes[i] {
        case UInt8(ascii: "\""):
            return skipString(bytes, &i)
        case UInt8(ascii: "{"), UInt8(ascii: "["):
            var depth = 0
            while i < bytes.count {
                switch bytes[i] {
                case UInt8(ascii: "\""):
                    guard skipString(bytes, &i) else { return false }
                    continue
                case UInt8(ascii: "{"), UInt8(ascii: "["): depth += 1
                case UInt8(ascii: "}"), UInt8(ascii: "]"):
                    depth -= 1
                    if depth == 0 { i += 1; return true }
                default: break
                }
                i += 1
            }
            return false
        default:
            // Number, true, false, null: up to the next delimiter.
            while i < bytes.count, ![UInt8(ascii: ","), UInt8(ascii: "}"), UInt8(ascii: "]"), 0x20, 0x09, 0x0A, 0x0D]
                .contains(bytes[i])
            {
                i += 1
            }
            return true
        }
    }
}
