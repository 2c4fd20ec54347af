import KittHTTP

/// Everything the HTTP server needs to know; immutable once the server starts.
public struct ServerConfiguration: Sendable {
    public var host: String = "127.0.0.1"
    public var port: Int = 8080
    /// TLS when set; plain HTTP otherwise.
    public var tls: TLSContext?
    public var limits = HTTPLimits()
    /// A request's head must arrive within this many seconds of its first byte (and a new
    /// connection must send its first request, or finish its TLS handshake, within it).
    public var headerTimeout: Double = 10
    /// An idle keep-alive connection is closed after this many seconds.
    public var idleTimeout: Double = 60
    public var maxConnections: Int = 20_000
    /// A streaming (SSE) connection whose unsent bytes pass this is dropped as too slow.
    public var maxStreamBacklogBytes: Int = 1 << 20
    /// Serial queues that run connection work; default one per core.
    public var loopCount: Int = 0
    /// The router's patterns (`Router.patterns`): the route labels of the request metrics.
    public var routePatterns: [String] = []

    // Fairness between clients (SPEC §7.2): one address cannot take the whole server.
    /// Open connections one client address may hold; more are answered 503 and closed.
    /// Keep it below `maxConnections` so one address holding its maximum leaves room for others.
    public var maxConnectionsPerAddress: Int = 256
    /// Event streams one client address may hold; more are answered 429 and closed.
    public var maxStreamsPerAddress: Int = 64
    /// A request body must arrive in full within this many seconds of the head (408 otherwise),
    /// however steadily its bytes trickle in.
    public var bodyTimeout: Double = 60

    public init() {}
}

/// One line per answered request, for the access log.
public struct AccessRecord: Sendable {
    public let method: String
    public let path: String
    /// The request target as sent, query string included.
    public let target: String
    public let status: Int
    public let bytes: Int
    public let durationSeconds: Double
    public let peer: String
    public let userAgent: String?
    public let requestID: String
    /// The matched route pattern (`unmatched` when none matched).
    public let route: String
    /// Wall-clock time the answer was logged (seconds since the epoch), like nginx's `$time_local`.
    public let loggedAt: Double
}
