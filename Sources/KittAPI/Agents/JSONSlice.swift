import KittJSON

/// Finds where a top-level member's value sits in JSON bytes, so an embedded document
/// (`result_data`) can be stored exactly as sent. Only for bytes that already parsed.
enum JSONSlice {
    /// The byte range of the value of `key` in the top-level object (the last occurrence,
    /// matching the parser's "last duplicate wins"); nil when absent.
    static func valueRange(of key: String, in bytes: [UInt8]) -> Range<Int>? {
        bytes.withUnsafeBytes { raw in
            JSONMembers.of(object: raw)?.last { member in
                JSONMembers.decodedKey(UnsafeRawBufferPointer(rebasing: raw[member.key])) == key
            }?.value
        }
    }
}
