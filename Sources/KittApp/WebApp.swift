#if canImport(Glibc)
import Glibc
#endif
import KittBase
import Dispatch
import KittAPI
import KittHTTP
import KittNet
import KittPostgres
import KittStore
import KittStorePostgres
import KittWeb

/// `kitt web`, composed: data dir, token, TLS, store, router, server. `start` returns once
/// the server is listening; `stop` shuts down in reverse order.
public final class WebApp: Sendable {
    public let port: Int
    public let url: String
    /// The admin token in force (nil only with `--insecure` and no token).
    public let token: String?
    public let caCertificatePath: String?
    public let caFingerprint: String?
    public let dataDirectory: String
    public let context: APIContext
    /// Security warnings found at start (a loose data dir, a readable token file); printed
    /// on stderr unless quiet.
    public let startupWarnings: [String]
    private let server: HTTPServer
    private let store: any DataStore
    /// `--database`: the event log and campaign lease shared with the other instances.
    private let shared: SharedDatabase?
    private let log: Log
    private let background: BackgroundServices
    /// `--results-dir` without `--legacy`: the background import at start.
    private let resultsImport: DispatchGroup?
    /// nil for `--legacy`: the read-only dashboard may run beside the server on the same database.
    private let lock: InstanceLock?

    /// Open client connections (tests watch it drop after closes and shutdown).
    public var connectionCount: Int { server.connectionCount }

    public static func start(_ options: WebOptions, environment: [String: String]) throws -> WebApp {
        try WebApp(options, environment: environment)
    }

    private init(_ options: WebOptions, environment: [String: String]) throws {
        var options = options
        if options.debug { options.quiet = false }
        try WebApp.checkResultsDirectory(options)
        let log = Log(enabled: options.logEnabled, access: !options.quiet, format: options.logFormat)
        self.log = log
        let dataDirectory = options.dataDirectory ?? Files.homeDirectory(environment: environment) + "/.kitt"
        var warnings: [String] = []
        if let warning = try Files.makePrivateDirectory(dataDirectory) { warnings.append(warning) }
        self.dataDirectory = dataDirectory
        try WebApp.checkSharedDatabaseOptions(options)
        // KITT 1.x's kitt.db here: say so (and name `kitt migrate`) before creating anything.
        if options.databaseURL == nil {
            try KITT1Database.refuseAsStore(options.databasePath ?? dataDirectory + "/kitt.db")
        }

        // Auth: flag/env token (or token file), else (secure mode) a generated token kept in the data dir.
        let token: String?
        if let given = options.authToken {
            token = given
        } else if let file = options.authTokenFile {
            let (fromFile, warning) = try AuthTokenFile.read(file)
            if let warning { warnings.append(warning) }
            token = fromFile
        } else if options.insecure || options.legacy {
            token = nil
        } else {
            token = try WebApp.persistentToken(in: dataDirectory)
        }
        self.token = token

        // TLS: given files, or the local CA (created on first start).
        var tls: TLSContext?
        var caPath: String?
        var fingerprint: String?
        let plain = options.insecure || options.legacy
        if !plain {
            if let certificate = options.tlsCertificate, let key = options.tlsKey {
                tls = try TLSContext.server(certificateChainFile: certificate, privateKeyFile: key)
            } else {
                let bundle = try CertificateAuthority.ensure(
                    directory: dataDirectory + "/certs", hostNames: [Files.hostName()])
                tls = try TLSContext.server(certificateChainFile: bundle.certificatePath, privateKeyFile: bundle.keyPath)
                caPath = bundle.caCertificatePath
                fingerprint = bundle.caFingerprintSHA256
            }
        }
        self.caCertificatePath = caPath
        self.caFingerprint = fingerprint

        var configuration = ServerConfiguration()
        configuration.host = options.host
        configuration.port = options.port
        configuration.tls = tls
        configuration.limits.maxHeadBytes = options.maxHeadBytes
        configuration.limits.maxBodyBytes = options.maxBodyBytes
        configuration.headerTimeout = options.headerTimeout
        configuration.idleTimeout = options.idleTimeout
        configuration.maxConnections = options.maxConnections
        configuration.loopCount = options.eventLoops
        configuration.maxConnectionsPerAddress = options.perAddressConnectionCap
        configuration.maxStreamsPerAddress = options.maxSSEPerIP
        configuration.bodyTimeout = options.bodyTimeout
        if options.perAddressConnectionCap >= options.maxConnections {
            warnings.append(
                "WARNING: --max-connections-per-ip \(options.perAddressConnectionCap) is not below --max-connections "
                    + "\(options.maxConnections): one client address can fill the server")
        }
        self.startupWarnings = warnings

        let store: any DataStore
        var lock: InstanceLock?
        var postgres: (store: PostgresStore, info: ConnectionInfo)?
        if let url = options.databaseURL {
            // Shared by design: several instances may serve one PostgreSQL database.
            let info = try ConnectionInfo(url)
            let opened = try PostgresStore(info, connections: WebApp.postgresConnections)
            postgres = (opened, info)
            store = opened
        } else {
            let databasePath = options.databasePath ?? dataDirectory + "/kitt.db"
            // One server per database; `kitt restore` checks this lock too. The legacy dashboard
            // only reads, so it may run beside the server (as KITT's did) and takes no lock.
            lock = options.legacy ? nil : try InstanceLock.acquire(databasePath: databasePath)
            do {
                store = try Store(path: databasePath)
            } catch {
                lock?.release()
                throw error
            }
        }
        self.lock = lock
        self.store = store

        var settings = APISettings()
        settings.dataDirectory = dataDirectory
        settings.modelDirectory = options.modelDirectory ?? dataDirectory + "/models"
        settings.devonURL = options.devonURL
        settings.devonAPIKey = options.devonAPIKey
        settings.agentOfflineAfterSeconds = options.agentOfflineAfter
        settings.provisionExpirySeconds = options.provisionExpiry
        settings.sseKeepaliveSeconds = options.sseKeepalive
        settings.quickTestTimeoutSeconds = options.quickTestTimeout
        settings.configDirectory = options.configDirectory ?? ConfigDirectory.locate() ?? "Config"
        settings.caCertificatePEM = try WebApp.givenTrustAnchor(options) ?? caPath.flatMap { Files.readText($0) }
        settings.metricsToken = options.metricsToken
        // install.sh prefers the Host header agents used to reach us; this is the fallback.
        let advertisedHost = options.host == "0.0.0.0" || options.host == "::" ? Files.hostName() : options.host
        settings.publicURL = "\(plain ? "http" : "https")://\(advertisedHost):\(options.port)"
        let events = EventBus()
        let context = APIContext(settings: settings, auth: Auth(adminToken: token), store: store, events: events)
        self.context = context
        let services = Services(context: context)
        do {
            shared = try postgres.map { opened in
                try SharedDatabase(
                    store: opened.store, info: opened.info, events: events, runner: services.runner,
                    say: { line in
                        log.line(line)
                        log.flush()
                    })
            }
        } catch {
            store.close()
            throw error
        }

        // --legacy: the read-only v1 dashboard instead of the API (no write routes at all).
        let resultsDirectory = try WebApp.legacyResultsDirectory(options, log: log)
        var router =
            options.legacy
            ? LegacyRoutes.makeRouter(context: context, source: resultsDirectory)
            : Routes.makeRouter(context: context, services: services)
        router.onUnexpectedError = { request, error in
            printError("kitt: error in \(request.method) \(request.path): \(error)")
        }
        if !options.legacy {
            // The browser UI at `/`: it calls the API router above in process.
            let sessions = try WebSessions(store: store)
            shared?.keepFresh(sessions)
            WebUI.register(
                in: &router, api: router, context: context, sessions: sessions, secureCookies: !plain,
                serverFacts: WebApp.serverFacts(options, plain: plain, localCA: caPath != nil))
        }
        var accessLog: (@Sendable (AccessRecord) -> Void)?
        if log.accessEnabled { accessLog = { @Sendable record in log.access(record) } }
        LifecycleLog.attach(to: events, log: log)
        configuration.routePatterns = router.patterns
        let frozen = router
        // Auth off: browsers must not be able to reach the API across sites (AuthOffGuard).
        let browserGuard = token == nil
            ? AuthOffGuard(hostName: Files.hostName(), allowedHosts: options.allowedHosts) : nil
        server = HTTPServer(configuration: configuration, accessLog: accessLog) { request in
            if let rejection = browserGuard?.rejection(for: request) { return rejection.response }
            return frozen.respond(to: request)
        }
        context.metrics.attach(server)
        shared?.addGauges(to: context.metrics)
        do {
            port = try server.start()
        } catch {
            // Nothing else will: stop() is never called on an app that did not start.
            store.close()
            lock?.release()
            throw error
        }
        let scheme = tls == nil ? "http" : "https"
        var shownHost = options.host == "0.0.0.0" || options.host == "::" ? "localhost" : options.host
        if shownHost.contains(":") { shownHost = "[\(shownHost)]" }  // an IPv6 literal in a URL
        url = "\(scheme)://\(shownHost):\(port)"
        background = BackgroundServices(context: context, campaigns: services.runner, leadership: shared?.leadership)
        background.start()
        resultsImport = WebApp.importResultsDirectory(options, store: store, log: log)
        events.startKeepalive(every: options.sseKeepalive)

        printBanner(options: options)
        if options.debug {
            for line in WebApp.debugLines(options, dataDirectory: dataDirectory, settings: settings) { log.line(line) }
            log.flush()
        }
    }

    private func printBanner(options: WebOptions) {
        for warning in startupWarnings { printError(warning) }
        for line in Banner.addressLines(
            host: options.host, port: port, url: url, legacy: options.legacy, hostName: Files.hostName())
        {
            log.line(line)
        }
        if let caCertificatePath, let caFingerprint {
            log.line("TLS CA certificate: \(caCertificatePath)")
            log.line("TLS CA SHA-256 fingerprint: \(caFingerprint)")
            log.line("Trust it with: curl --cacert \(caCertificatePath) \(url)/api/v1/health")
        }
        if options.insecure {
            printError("WARNING: --insecure: serving plain HTTP; tokens and results cross the network unencrypted.")
            if token == nil {
                printError("WARNING: --insecure without --auth-token: authentication is OFF; anyone can write.")
                printError("  (browsers are kept out: writes need Content-Type: application/json and the Host must be")
                printError("  an IP address, localhost or this machine's name; --allowed-host NAME adds a name)")
            }
        }
        if let token, options.authToken == nil, options.authTokenFile == nil, !options.insecure {
            log.line("Auth token (kept in \(dataDirectory)/auth-token): \(token)")
        }
        log.line("Data: \(dataDirectory)")
        if let url = options.databaseURL, let info = try? ConnectionInfo(url) {
            log.line("Store: PostgreSQL \(info) (shared; campaigns run on one instance at a time)")
        }
        log.flush()
    }

    /// Graceful shutdown: stop accepting, end event streams, finish requests in flight
    /// (bounded), then close the database.
    public func stop(gracePeriod: Double = 5) {
        background.stop()
        _ = resultsImport?.wait(timeout: .now() + gracePeriod)
        context.events.closeAll()
        server.shutdown(gracePeriod: gracePeriod)
        shared?.stop()
        store.close()
        lock?.release()
        log.flush()
    }

    static func persistentToken(in directory: String) throws -> String {
        let path = directory + "/auth-token"
        if let existing = Files.readText(path)?.split(whereSeparator: \.isWhitespace).first {
            return String(existing)
        }
        let token = SecureRandom.hex(bytes: 32)
        try Files.writeAtomically(Array((token + "\n").utf8), to: path, mode: 0o600)
        return token
    }
}

/// Finds `Config/` (engines.json, Dockerfile, systemd unit): next to the executable or one of
/// its ancestors (a build tree), or the current directory.
enum ConfigDirectory {
    static func locate() -> String? {
        var candidates: [String] = []
        if let executable = Files.executablePath() {
            var directory = executable
            for _ in 0..<5 {
                guard let slash = directory.lastIndex(of: "/") else { break }
                directory = String(directory[..<slash])
                candidates.append(directory + "/Config")
                candidates.append(directory + "/share/kitt")
            }
        }
        var cwd = [CChar](repeating: 0, count: 4096)
        if getcwd(&cwd, cwd.count) != nil {
            candidates.append(cwd.withUnsafeBufferPointer { String(cString: $0.baseAddress!) } + "/Config")
        }
        return candidates.first { Files.exists($0 + "/engines.json") }
    }
}

