/// Why a request could not be parsed. Every case closes the connection after the error
/// response, because the parser can no longer tell where the next request would start.
public enum HTTPParseError: Error, Sendable, Equatable, CustomStringConvertible {
    /// 400: the message says what was wrong ("whitespace before header colon").
    case badRequest(String)
    /// 414: the request line passed `maxRequestLineBytes`.
    case uriTooLong
    /// 431: the head passed `maxHeadBytes`, or there were more than `maxHeaderCount` fields.
    case headersTooLarge
    /// 413: the body is known to pass `maxBodyBytes` (raised before reading the rest).
    case payloadTooLarge
    /// 501: a transfer coding other than `chunked`.
    case unsupportedTransferCoding(String)
    /// 505: an HTTP version other than 1.0 or 1.1.
    case versionNotSupported

    public var status: HTTPStatus {
        switch self {
        case .badRequest: .badRequest
        case .uriTooLong: .uriTooLong
        case .headersTooLarge: .headerFieldsTooLarge
        case .payloadTooLarge: .payloadTooLarge
        case .unsupportedTransferCoding: .unimplemented
        case .versionNotSupported: .versionNotSupported
        }
    }

    /// A sentence for the JSON error body.
    public var message: String {
        switch self {
        case .badRequest(let message): message
        case .uriTooLong: "request line too long"
        case .headersTooLarge: "request header fields too large"
        case .payloadTooLarge: "request body too large"
        case .unsupportedTransferCoding(let message): message
        case .versionNotSupported: "HTTP version not supported (only HTTP/1.0 and HTTP/1.1)"
        }
    }

    public var description: String { "\(status.code) \(message)" }
}
