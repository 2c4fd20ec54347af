import KittHTTP
import KittStore

/// What every handler may use: the store, the event bus, auth and the server's settings.
/// Built once at startup and shared read-only (everything in it is Sendable).
public final class APIContext: Sendable {
    public let settings: APISettings
    public let auth: Auth
    public let store: any DataStore
    public let events: EventBus
    /// The server's counters and process facts, for `GET /metrics`.
    public let metrics: MetricsSource

    public init(settings: APISettings, auth: Auth, store: any DataStore, events: EventBus, metrics: MetricsSource = MetricsSource()) {
        self.settings = settings
        self.auth = auth
        self.store = store
        self.events = events
        self.metrics = metrics
    }
}

/// Operator settings the handlers need (from flags, environment and defaults).
public struct APISettings: Sendable {
    public var version: String = KittVersion.current
    /// How the server is reached from agents (`https://host:port`), used in install.sh.
    public var publicURL: String = "https://localhost:8080"
    /// PEM of the CA agents must trust (embedded in install.sh); nil with plain HTTP.
    public var caCertificatePEM: String?
    public var dataDirectory: String = ""
    public var modelDirectory: String = ""
    public var devonURL: String?
    public var devonAPIKey: String?
    public var agentOfflineAfterSeconds: Double = 90
    /// Provisioned agents that never register, and nameless install.sh tokens, are removed
    /// after this long (SPEC §7.2: 24 h).
    public var provisionExpirySeconds: Double = 86_400
    public var sseKeepaliveSeconds: Double = 15
    public var quickTestTimeoutSeconds: Double = 1800
    /// Where `Config/` data files live (engines.json, Dockerfile, systemd unit); resolved at startup.
    public var configDirectory: String = ""
    /// `--metrics-token`: the bearer `GET /metrics` requires; nil: open (the Prometheus norm).
    public var metricsToken: String?

    public init() {}
}

public enum KittVersion {
    public static let current = "0.9.0"
}
