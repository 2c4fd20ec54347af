import KittJSON
import KittNet

/// A server's answer: the status and the body when it is JSON.
public struct ServerReply: Sendable {
    public var status: Int
    public var json: JSON?
    public init(status: Int, json: JSON?) {
        self.status = status
        self.json = json
    }

    /// The `error` message of a JSON error body, for logs.
    public var errorText: String { json?["error"]?.stringValue ?? "HTTP \(status)" }
}

/// The kitt server as the agent uses it: JSON POSTs under `/api/v1` (a fake in unit tests).
/// Throws for transport failures only; every HTTP status is a reply.
public protocol AgentServer: Sendable {
    func post(_ path: String, _ body: JSON) throws(ClientError) -> ServerReply
}

/// The real server over kitt's own HTTP client, verifying TLS with the CA from install.sh.
public struct HTTPAgentServer: AgentServer {
    public let baseURL: String
    private let token: String
    private let client: HTTPClient

    /// `caFile` nil trusts the system store.
    public init(baseURL: String, token: String, caFile: String?) throws(AgentConfigError) {
        self.baseURL = baseURL
        self.token = token
        var tls: TLSContext?
        if let caFile {
            do {
                tls = try TLSContext.client(caFile: caFile)
            } catch {
                throw AgentConfigError("cannot load the CA certificate \(caFile): \(error)")
            }
        }
        client = HTTPClient(tls: tls, connectTimeout: 5, readTimeout: 30, maxResponseBytes: 4 << 20)
    }

    public func post(_ path: String, _ body: JSON) throws(ClientError) -> ServerReply {
        let response = try client.send(
            method: "POST", url: baseURL + "/api/v1" + path,
            headers: [("Authorization", "Bearer \(token)"), ("Content-Type", "application/json")],
            body: body.serialized())
        return ServerReply(status: response.status, json: try? JSON(parsing: response.body))
    }
}
