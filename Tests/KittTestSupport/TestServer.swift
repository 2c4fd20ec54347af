import Foundation
import KittApp
import KittHTTP
import KittJSON

/// The real `kitt web` app on 127.0.0.1 with an ephemeral port, TLS with its generated CA
/// (unless `insecure`), a temp data dir and a known token. `stop()` shuts it down gracefully.
public final class TestServer: @unchecked Sendable {
    public let directory: TempDirectory
    public let app: WebApp
    public let options: WebOptions
    public var port: Int { app.port }
    public var token: String? { app.token }
    public var caFile: String? { app.caCertificatePath }
    private var stopped = false

    public static let defaultToken = "e2e-admin-token"

    public static func start(
        directory: TempDirectory? = nil, configure: (inout WebOptions) -> Void = { _ in }
    ) throws -> TestServer {
        try TestServer(directory: directory ?? TempDirectory("kitt-e2e"), configure: configure)
    }

    private init(directory: TempDirectory, configure: (inout WebOptions) -> Void) throws {
        self.directory = directory
        var options = WebOptions()
        options.host = "127.0.0.1"
        options.port = 0
        options.dataDirectory = directory.path
        options.authToken = TestServer.defaultToken
        options.configDirectory = APIHarness.repositoryRoot + "/Config"
        options.quiet = true
        options.logEnabled = false
        configure(&options)
        self.options = options
        app = try WebApp.start(options, environment: [:])
    }

    deinit { stop() }

    public func stop(gracePeriod: Double = 2) {
        guard !stopped else { return }
        stopped = true
        app.stop(gracePeriod: gracePeriod)
    }

    /// A new connection to the server (TLS when the server speaks it).
    public func connect(serverName: String = "localhost", source: String? = nil) throws -> RawClient {
        try RawClient(port: port, caFile: caFile, serverName: serverName, source: source)
    }

    /// One request on a new connection. `token: .admin` (default) sends the admin token.
    public func request(
        _ method: String, _ target: String, json: JSON? = nil, body: [UInt8]? = nil,
        token: String? = TestServer.defaultToken, headers: [(String, String)] = [], timeout: Double = 15
    ) throws -> TestResponse {
        let client = try connect()
        let payload = body ?? json?.serialized() ?? []
        var head = "\(method) \(target) HTTP/1.1\r\nHost: localhost:\(port)\r\nConnection: close\r\n"
        if let token { head += "Authorization: Bearer \(token)\r\n" }
        for (name, value) in headers { head += "\(name): \(value)\r\n" }
        if !payload.isEmpty || ["POST", "PUT", "PATCH"].contains(method) {
            head += "Content-Length: \(payload.count)\r\n"
            if json != nil { head += "Content-Type: application/json\r\n" }
        }
        head += "\r\n"
        try client.send(Array(head.utf8) + payload)
        return try client.readResponse(timeout: timeout, isHead: method == "HEAD")
    }
}
