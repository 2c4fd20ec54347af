#if canImport(Glibc)
import Glibc
#endif
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
    /// Jumps between candidate bytes with `memchr` (vectorised in libc): this runs over
    /// every document served, and a byte-by-byte loop here was 12% of a compare of 100.
    static func mayHoldIDKey(_ bytes: UnsafeRawBufferPointer) -> Bool {
        guard bytes.count >= 4 else { return false }
        return contains(bytes, UInt8(ascii: "\\"), followedBy: afterBackslash)
            || contains(bytes, UInt8(ascii: "\""), followedBy: afterQuote)
    }

    private static let afterBackslash = Array("u".utf8)
    private static let afterQuote = Array("id\"".utf8)

    /// Whether `first` followed by `rest` occurs in `bytes`.
    private static func contains(_ bytes: UnsafeRawBufferPointer, _ first: UInt8, followedBy rest: [UInt8]) -> Bool {
        guard let base = bytes.baseAddress else { return false }
        var start = 0
        while start < bytes.count, let hit = memchr(base + start, Int32(first), bytes.count - start) {
            let at = base.distance(to: UnsafeRawPointer(hit))
            if at + rest.count < bytes.count, rest.indices.allSatisfy({ bytes[at + 1 + $0] == rest[$0] }) { return true }
            start = at + 1
        }
        return false
    }

    private static func isID(_ object: UnsafeRawBufferPointer, _ member: JSONMembers.Member) -> Bool {
        member.key.count <= 32 && JSONMembers.decodedKey(UnsafeRawBufferPointer(rebasing: object[member.key])) == "id"
    }
}
