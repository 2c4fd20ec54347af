import KittBase
import KittWeb

extension WebApp {
    /// The rows of the web UI's settings page that only `kitt web`'s options know: where it
    /// listens, its TLS, limits and timeouts. Never a secret (no token, no key path contents).
    static func serverFacts(_ options: WebOptions, plain: Bool, localCA: Bool) -> ServerFacts {
        let tls: String
        if plain {
            tls = "off (plain HTTP)"
        } else if let certificate = options.tlsCertificate {
            tls = "on, certificate " + certificate
        } else {
            tls = localCA ? "on, certificate from the local CA (data directory /certs)" : "on"
        }
        return ServerFacts([
            .init("Listening on", "\(options.host):\(options.port)"),
            .init("TLS", tls),
            .init("Event loops", options.eventLoops == 0 ? "one per core" : String(options.eventLoops)),
            .init("Connections at most", "\(options.maxConnections), \(options.perAddressConnectionCap) per client address"),
            .init("SSE streams per client address", String(options.maxSSEPerIP)),
            .init("Request head / body at most", "\(options.maxHeadBytes) / \(options.maxBodyBytes) bytes"),
            .init("Header / body / idle timeout",
                [options.headerTimeout, options.bodyTimeout, options.idleTimeout].map(seconds).joined(separator: " / ")),
        ])
    }

    /// "10 s", or "0.5 s" for a fraction.
    private static func seconds(_ value: Double) -> String { plainNumber(value) + " s" }
}
