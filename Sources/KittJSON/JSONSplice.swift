/// Serving a stored JSON object with kitt's `"id"` in front, from its bytes (never re-encoded,
/// so numbers and key order stay exactly as sent).
///
/// A document stored before kitt refused its own `"id"` (or brought from elsewhere) may still
/// carry one: that member is left out, so a client never sees the key twice (clients that keep
/// the last one would otherwise see the document's id instead of kitt's).
public enum JSONSplice {
    /// Appends `{"id":"<id>",` + the members of `document` (a stored JSON object) + `}`.
    /// Bytes before the opening `{` are skipped; anything that is not an object gives `{"id":…}`.
    public static func appendObject(id: String, members document: UnsafeRawBufferPointer, to bytes: inout [UInt8]) {
        bytes.append(contentsOf: #"{"id":"#.utf8)
        JSONWriter.writeString(id, into: &bytes)
        guard let brace = document.firstIndex(of: UInt8(ascii: "{")) else {
            bytes.append(UInt8(ascii: "}"))
            return
        }
        let object = UnsafeRawBufferPointer(rebasing: document[brace...])
        if mayHoldIDKey(object), let members = JSONMembers.of(object: object),
            members.contains(where: { isID(object, $0) })
        {
            for member in members where !isID(object, member) {
                bytes.append(UInt8(ascii: ","))
                bytes.append(contentsOf: UnsafeRawBufferPointer(rebasing: object[member.key.lowerBound..<member.value.upperBound]))
            }
            bytes.append(UInt8(ascii: "}"))
            return
        }
        // The common case: the members as stored, after a comma unless the object is empty.
        let body = UnsafeRawBufferPointer(rebasing: object.dropFirst())
        if let next = body.first(where: { !JSONMembers.isSpace($0) }), next != UInt8(ascii: "}") {
            bytes.append(UInt8(ascii: ","))
        }
        if body.isEmpty { bytes.append(UInt8(ascii: "}")) } else { bytes.append(contentsOf: body) }
    }

    /// Cheap pre-check: a key spelled `id` appears as `"id"`; an escaped one needs `\u`.
    static func mayHoldIDKey(_ bytes: UnsafeRawBufferPointer) -> Bool {
        guard bytes.count >= 4 else { return false }
        for i in 0..<(bytes.count - 1) {
            switch bytes[i] {
            case UInt8(ascii: "\\") where bytes[i + 1] == UInt8(ascii: "u"): return true
            case UInt8(ascii: "\"")
            where i + 3 < bytes.count && bytes[i + 1] == UInt8(ascii: "i") && bytes[i + 2] == UInt8(ascii: "d")
                && bytes[i + 3] == UInt8(ascii: "\""):
                return true
            default: continue
            }
        }
        return false
    }

    private static func isID(_ object: UnsafeRawBufferPointer, _ member: JSONMembers.Member) -> Bool {
        member.key.count <= 32 && JSONMembers.decodedKey(UnsafeRawBufferPointer(rebasing: object[member.key])) == "id"
    }
}
