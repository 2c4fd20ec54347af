/// Size limits the request parser enforces while bytes arrive, so an oversized request is
/// refused as soon as it is known to be too big, never after buffering all of it.
public struct HTTPLimits: Sendable {
    /// Request line + header section, including the blank line that ends it. The trailer
    /// section of a chunked body counts against what is left of it. Beyond → 431.
    public var maxHeadBytes: Int = 16 * 1024
    /// The request line without its CRLF. Beyond → 414 (or 431 when `maxHeadBytes` is smaller).
    public var maxRequestLineBytes: Int = 8 * 1024
    /// The (de-chunked) body. Beyond → 413.
    public var maxBodyBytes: Int = 8 * 1024 * 1024
    /// Header field lines in one request. Beyond → 431.
    public var maxHeaderCount: Int = 100

    public init() {}

    public init(
        maxHeadBytes: Int = 16 * 1024, maxRequestLineBytes: Int = 8 * 1024,
        maxBodyBytes: Int = 8 * 1024 * 1024, maxHeaderCount: Int = 100
    ) {
        self.maxHeadBytes = maxHeadBytes
        self.maxRequestLineBytes = maxRequestLineBytes
        self.maxBodyBytes = maxBodyBytes
        self.maxHeaderCount = maxHeaderCount
    }
}
