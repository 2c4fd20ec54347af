import KittHTTP
import KittJSON

/// A response as a test sees it: status, headers, body, and the body as JSON when it is JSON.
public struct TestResponse: Sendable, CustomStringConvertible {
    public let status: Int
    public let headers: HTTPHeaders
    public let body: [UInt8]

    public init(status: Int, headers: HTTPHeaders, body: [UInt8]) {
        self.status = status
        self.headers = headers
        self.body = body
    }

    public var text: String { String(decoding: body, as: UTF8.self) }
    public var json: JSON? { try? JSON(parsing: body) }
    /// `json["error"]` as a string, for asserting on error messages.
    public var errorMessage: String? { json?["error"]?.stringValue }
    public var error: String? { errorMessage }

    public var description: String { "\(status) \(text.prefix(300))" }
}
