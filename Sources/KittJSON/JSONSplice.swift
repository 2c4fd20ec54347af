/// Serving a stored JSON object with kitt's `"id"` in front, from its bytes (never re-encoded,
/// so numbers and key order stay exactly as sent).
///
/// A document stored before kitt refused its own `"id"` (or migrated from elsewhere) may still
/// carry one: that member is cut, so a client never sees the key twice (clients that keep the
/// last one would otherwise see the document's id instead of kitt's).
public enum JSONSplice {
    /// Appends `{"id":"<id>",` + the members of `document` (a stored JSON object) + `}`.
    /// Bytes before the opening `{` are skipped; anything that is not an object gives `{"id":…}`.
    public static func appendObject(id: String, members document: UnsafeRawBufferPointer, to bytes: inout [UInt8]) {
        bytes.append(contentsOf: #"{"id":"#.utf8)
        JSONWriter.writeString(id, into: &bytes)
        guard var start = document.firstIndex(of: UInt8(ascii: "{")) else {
            bytes.append(UInt8(ascii: "}"))
            return
        }
        start += 1
        let body = UnsafeRawBufferPointer(rebasing: document[start...])
        if mayHoldIDKey(body), let kept = membersWithoutID(body) {
            for member in kept {
                bytes.append(UInt8(ascii: ","))
                bytes.append(contentsOf: UnsafeRawBufferPointer(rebasing: body[member]))
            }
            bytes.append(UInt8(ascii: "}"))
            return
        }
        // The common case: the members as stored, after a comma unless the object is empty.
        if let next = body.first(where: { !isSpace($0) }), next != UInt8(ascii: "}") {
            bytes.append(UInt8(ascii: ","))
        }
        if body.isEmpty { bytes.append(UInt8(ascii: "}")) } else { bytes.append(contentsOf: body) }
    }

    /// Cheap pre-check: a key spelled `id` appears as `"id"`, an escaped one needs `\u`.
    static func mayHoldIDKey(_ body: UnsafeRawBufferPointer) -> Bool {
        guard body.count >= 4 else { return false }
        for i in 0..<(body.count - 1) {
            switch body[i] {
            case UInt8(ascii: "\\") where body[i + 1] == UInt8(ascii: "u"): return true
            case UInt8(ascii: "\"")
            where i + 3 < body.count && body[i + 1] == UInt8(ascii: "i") && body[i + 2] == UInt8(ascii: "d")
                && body[i + 3] == UInt8(ascii: "\""):
                return true
            default: continue
            }
        }
        return false
    }

    /// The byte ranges of the top-level members not named `id`, in order; nil when there is
    /// no `id` member or the bytes do not scan as an object's members (then they are served as stored).
    static func membersWithoutID(_ body: UnsafeRawBufferPointer) -> [Range<Int>]? {
        var kept: [Range<Int>] = []
        var sawID = false
        var i = skipSpace(body, 0)
        if i < body.count, body[i] == UInt8(ascii: "}") { return nil }
        while true {
            guard i < body.count, body[i] == UInt8(ascii: "\"") else { return nil }
            let keyStart = i
            guard let keyEnd = endOfString(body, i) else { return nil }
            i = skipSpace(body, keyEnd)
            guard i < body.count, body[i] == UInt8(ascii: ":") else { return nil }
            guard let valueEnd = endOfValue(body, skipSpace(body, i + 1)) else { return nil }
            if isIDKey(UnsafeRawBufferPointer(rebasing: body[keyStart..<keyEnd])) {
                sawID = true
            } else {
                kept.append(keyStart..<valueEnd)
            }
            i = skipSpace(body, valueEnd)
            guard i < body.count else { return nil }
            if body[i] == UInt8(ascii: "}") { break }
            guard body[i] == UInt8(ascii: ",") else { return nil }
            i = skipSpace(body, i + 1)
        }
        return sawID ? kept : nil
    }

    /// Whether a quoted key (quotes included) decodes to `id`.
    static func isIDKey(_ key: UnsafeRawBufferPointer) -> Bool {
        if key.count == 4 { return key[1] == UInt8(ascii: "i") && key[2] == UInt8(ascii: "d") }
        guard key.contains(UInt8(ascii: "\\")), key.count <= 32 else { return false }
        return (try? JSON(parsing: Array(key)))?.stringValue == "id"
    }

    static func isSpace(_ byte: UInt8) -> Bool { byte == 0x20 || byte == 0x0A || byte == 0x0D || byte == 0x09 }

    static func skipSpace(_ body: UnsafeRawBufferPointer, _ from: Int) -> Int {
        var i = from
        while i < body.count, isSpace(body[i]) { i += 1 }
        return i
    }

    /// The index after the closing quote of the string opening at `from`.
    static func endOfString(_ body: UnsafeRawBufferPointer, _ from: Int) -> Int? {
        var i = from + 1
        while i < body.count {
            switch body[i] {
            case UInt8(ascii: "\\"): i += 2
            case UInt8(ascii: "\""): return i + 1
            default: i += 1
            }
        }
        return nil
    }

    /// The index after the value starting at `from` (containers skipped by depth, strings whole).
    static func endOfValue(_ body: UnsafeRawBufferPointer, _ from: Int) -> Int? {
        guard from < body.count else { return nil }
        switch body[from] {
        case UInt8(ascii: "\""):
            return endOfString(body, from)
        case UInt8(ascii: "{"), UInt8(ascii: "["):
            var depth = 0
            var i = from
            while i < body.count {
                switch body[i] {
                case UInt8(ascii: "\""):
                    guard let end = endOfString(body, i) else { return nil }
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
            var i = from
            while i < body.count, !isSpace(body[i]), body[i] != UInt8(ascii: ","), body[i] != UInt8(ascii: "}"),
                body[i] != UInt8(ascii: "]")
            {
                i += 1
            }
            return i > from ? i : nil
        }
    }
}
