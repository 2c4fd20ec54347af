import KittHTTP
import KittJSON

/// What an API test talks to, in process or over the wire (Hummingbird's `.router` / `.live`):
/// the same test body runs against `APIHarness` (the router, no socket) and `TestServer` (the
/// real server over TLS). Both send the admin token unless told otherwise.
public protocol APIClient: Sendable {
    /// The admin token this client's server accepts.
    var adminToken: String { get }
    /// One request; `token: nil` sends no Authorization header.
    func execute(
        _ method: HTTPMethod, _ target: String, headers: [(String, String)], body: [UInt8], token: String?
    ) throws -> TestResponse
}

extension APIClient {
    /// `execute` with the admin token, a JSON body when given, and JSON's Content-Type.
    public func execute(
        _ method: HTTPMethod, _ target: String, json: JSON? = nil, headers: [(String, String)] = [],
        admin: Bool = true
    ) throws -> TestResponse {
        var fields = headers
        if json != nil { fields.append(("Content-Type", "application/json")) }
        return try execute(method, target, headers: fields, body: json?.serialized() ?? [], token: admin ? adminToken : nil)
    }

    /// `execute` with another bearer token than the admin's (an agent's, a wrong one), or
    /// none (`token: nil`). The one token convention: admin by default, `admin: false` for
    /// no token, `token:` for any other.
    public func execute(
        _ method: HTTPMethod, _ target: String, json: JSON? = nil, headers: [(String, String)] = [], token: String?
    ) throws -> TestResponse {
        var fields = headers
        if json != nil { fields.append(("Content-Type", "application/json")) }
        return try execute(method, target, headers: fields, body: json?.serialized() ?? [], token: token)
    }

    /// `execute` with a raw body: exactly the bytes of `body` and only the headers given (no
    /// Content-Type added), for requests a JSON value cannot spell (malformed or oddly spaced).
    /// Admin by default, `admin: false` for no token.
    public func execute(
        _ method: HTTPMethod, _ target: String, body: String, headers: [(String, String)] = [], admin: Bool = true
    ) throws -> TestResponse {
        try execute(method, target, headers: headers, body: Array(body.utf8), token: admin ? adminToken : nil)
    }

    /// `execute` with a raw body and another bearer token (or none, `token: nil`).
    public func execute(
        _ method: HTTPMethod, _ target: String, body: String, headers: [(String, String)] = [], token: String?
    ) throws -> TestResponse {
        try execute(method, target, headers: headers, body: Array(body.utf8), token: token)
    }
}

extension APIHarness: APIClient {
    public var adminToken: String { token }

    public func execute(
        _ method: HTTPMethod, _ target: String, headers: [(String, String)], body: [UInt8], token: String?
    ) throws -> TestResponse {
        call(method, target, body: body, token: token, headers: headers)
    }
}

extension TestServer: APIClient {
    public var adminToken: String { token ?? TestServer.defaultToken }

    public func execute(
        _ method: HTTPMethod, _ target: String, headers: [(String, String)], body: [UInt8], token: String?
    ) throws -> TestResponse {
        try request(method.rawValue, target, body: body, token: token, headers: headers)
    }
}
