import KittBase

/// `kitt web` options: flags beat environment beats defaults (SPEC §1).
public struct WebOptions: Sendable {
    public var host = "0.0.0.0"
    public var port = 8080
    public var authToken: String?
    public var insecure = false
    public var legacy = false
    public var tlsCertificate: String?
    public var tlsKey: String?
    public var dataDirectory: String?
    public var databasePath: String?
    /// `--database postgres://…` (env KITT_DATABASE_URL): the store in PostgreSQL instead of
    /// the SQLite file, so several instances can serve one lab (issue 15).
    public var databaseURL: String?
    public var modelDirectory: String?
    public var devonURL: String?
    public var devonAPIKey: String?
    public var configDirectory: String?
    public var agentOfflineAfter: Double = 90
    /// Provisioned agents and nameless install tokens that never register go after this long.
    public var provisionExpiry: Double = 86_400
    public var sseKeepalive: Double = 15
    public var quickTestTimeout: Double = 1800
    public var maxHeadBytes = 16 * 1024
    public var maxBodyBytes = 8 * 1024 * 1024
    public var headerTimeout: Double = 10
    public var idleTimeout: Double = 60
    public var maxConnections = 20_000
    /// Serial queues running connection work (0: one per core).
    public var eventLoops = 0
    /// `--quiet`: no access log (the banner, lifecycle lines and errors stay).
    public var quiet = false
    /// Whether anything goes to stdout at all (tests turn it off; not a flag).
    public var logEnabled = true
    /// `--log-format text|json`.
    public var logFormat: Log.Format = .text
    // Operations (issue 12).
    /// Bearer token `GET /metrics` requires (nil: open).
    public var metricsToken: String?

    // Hostile clients (SPEC §7.2).
    /// Open connections / event streams one client address may hold. Connections: nil is the
    /// default, 256 but never more than half of `maxConnections` (perAddressConnectionCap).
    public var maxConnectionsPerIP: Int?
    public var maxSSEPerIP = 64
    /// A request body must arrive in full within this many seconds.
    public var bodyTimeout: Double = 60
    /// A file holding the admin token (`--auth-token-file`, env KITT_AUTH_TOKEN_FILE), so the
    /// token is not on the command line; read at start (AuthTokenFile).
    public var authTokenFile: String?
    /// Host names accepted when auth is off, besides IP literals, localhost and the machine's name.
    public var allowedHosts: [String] = []

    // KITT 1.x's `kitt web` flags (SPEC §7.1), so its service files keep working.
    /// `--results-dir`: with `--legacy`, the dashboard reads the metrics.json files there;
    /// without it, they are imported into the store in the background at start.
    public var resultsDirectory: String?
    /// `--debug`: verbose log (settings in force at start, results-dir scans); beats `--quiet`.
    public var debug = false
    /// `--tls-ca`: the CA that issued `--tls-cert`, embedded in install.sh as agents' trust anchor.
    public var tlsCA: String?

    public init() {}
}

extension WebOptions {
    /// Prepends the options of `--config FILE` (if given) so the command line's own flags,
    /// parsed after them, win.
    static func withConfigFile(_ arguments: [String]) throws -> [String] {
        var path: String?
        var index = 0
        while index < arguments.count {
            let word = arguments[index]
            if word == "--config" {
                guard index + 1 < arguments.count else { throw UsageError("--config needs a value") }
                path = arguments[index + 1]
                index += 1
            } else if word.hasPrefix("--config=") {
                path = String(word.dropFirst("--config=".count))
            }
            index += 1
        }
        guard let path else { return arguments }
        guard let text = Files.readText(path) else { throw UsageError("--config: cannot read \(path)") }
        return try ConfigFile.arguments(text, path: path, help: WebOptions.help) + arguments
    }
}


/// A command-line mistake: one line on stderr and exit code 2.
public struct UsageError: Error, CustomStringConvertible {
    public let description: String
    public init(_ description: String) { self.description = description }
}

extension WebOptions {
    /// Parses `kitt web` arguments (after the word `web`), then fills gaps from the environment.
    public static func parse(_ arguments: [String], environment: [String: String]) throws -> WebOptions {
        var options = WebOptions()
        var iterator = ArgumentIterator(try withConfigFile(arguments))
        while let (flag, inlineValue) = iterator.nextFlag() {
            func value() throws -> String { try iterator.value(for: flag, inline: inlineValue) }
            func number(_ range: ClosedRange<Double> = 0.001...1e9) throws -> Double {
                let text = try value()
                guard let parsed = Double(text), range.contains(parsed) else {
                    throw UsageError(
                        "\(flag) needs a number from \(plainNumber(range.lowerBound)) to \(plainNumber(range.upperBound)), got '\(text)'")
                }
                return parsed
            }
            func integer(_ range: ClosedRange<Int>) throws -> Int {
                let text = try value()
                guard let parsed = Int(text), range.contains(parsed) else {
                    throw UsageError("\(flag) needs an integer in \(range.lowerBound)-\(range.upperBound), got '\(text)'")
                }
                return parsed
            }
            func noValue() throws {
                if inlineValue != nil { throw UsageError("\(flag) takes no value") }
            }
            switch flag {
            case "--host": options.host = try value()
            case "--port": options.port = try integer(0...65535)
            case "--auth-token": options.authToken = try value()
            case "--insecure": try noValue(); options.insecure = true
            case "--legacy": try noValue(); options.legacy = true
            case "--tls-cert": options.tlsCertificate = try value()
            case "--tls-key": options.tlsKey = try value()
            case "--data-dir": options.dataDirectory = try value()
            case "--db": options.databasePath = try value()
            case "--database": options.databaseURL = try value()
            case "--model-dir": options.modelDirectory = try value()
            case "--devon-url": options.devonURL = try value()
            case "--config-dir": options.configDirectory = try value()
            case "--agent-offline-after": options.agentOfflineAfter = try number()
            case "--provision-expiry": options.provisionExpiry = try number()
            case "--sse-keepalive": options.sseKeepalive = try number()
            case "--quicktest-timeout": options.quickTestTimeout = try number()
            case "--max-head-bytes": options.maxHeadBytes = try integer(1024...(1 << 20))
            case "--max-body-bytes": options.maxBodyBytes = try integer(1024...(1 << 30))
            case "--header-timeout": options.headerTimeout = try number()
            case "--idle-timeout": options.idleTimeout = try number()
            case "--max-connections": options.maxConnections = try integer(1...1_000_000)
            case "--event-loops": options.eventLoops = try integer(0...256)
            case "--quiet": try noValue(); options.quiet = true
            case "--max-connections-per-ip": options.maxConnectionsPerIP = try integer(1...1_000_000)
            case "--max-sse-per-ip": options.maxSSEPerIP = try integer(1...1_000_000)
            case "--body-timeout": options.bodyTimeout = try number()
            case "--auth-token-file": options.authTokenFile = try value()
            case "--allowed-host": options.allowedHosts.append(try value())
            case "--config": _ = try value()  // already read (withConfigFile)
            case "--metrics-token": options.metricsToken = try value()
            case "--log-format":
                let text = try value()
                guard let format = Log.Format(rawValue: text) else {
                    throw UsageError("--log-format is text or json, got '\(text)'")
                }
                options.logFormat = format
            // KITT 1.x's flags.
            case "--results-dir": options.resultsDirectory = try value()
            case "--debug": try noValue(); options.debug = true
            case "--tls-ca": options.tlsCA = try value()
            default:
                let hint = Suggestion.hint(for: flag, in: Suggestion.flags(in: WebOptions.help))
                throw UsageError("unknown option '\(flag)' (see 'kitt web --help')\(hint)")
            }
        }
        if let extra = iterator.positional.first {
            throw UsageError("unexpected argument '\(extra)' (see 'kitt web --help')")
        }
        if (options.tlsCertificate == nil) != (options.tlsKey == nil) {
            throw UsageError("--tls-cert and --tls-key go together")
        }
        if options.tlsCA != nil && options.tlsCertificate == nil {
            throw UsageError("--tls-ca names the CA of --tls-cert; without --tls-cert kitt serves its own CA")
        }
        if options.authToken != nil && options.authTokenFile != nil {
            throw UsageError("--auth-token and --auth-token-file are alternatives; give one")
        }
        if options.authToken == nil && options.authTokenFile == nil {
            // Flags beat the environment; of the two variables the file wins (it keeps the
            // token out of the process environment too).
            if let file = environment["KITT_AUTH_TOKEN_FILE"], !file.isEmpty {
                options.authTokenFile = file
            } else if let token = environment["KITT_AUTH_TOKEN"], !token.isEmpty {
                options.authToken = token
            }
        }
        options.databaseURL = try DatabaseFlag.resolve(
            options.databaseURL, databasePath: options.databasePath, environment: environment)
        if options.devonURL == nil, let url = environment["DEVON_URL"], !url.isEmpty { options.devonURL = url }
        if let key = environment["DEVON_API_KEY"], !key.isEmpty { options.devonAPIKey = key }
        if options.modelDirectory == nil, let dir = environment["KITT_MODEL_DIR"], !dir.isEmpty {
            options.modelDirectory = dir
        }
        if options.configDirectory == nil, let dir = environment["KITT_CONFIG_DIR"], !dir.isEmpty {
            options.configDirectory = dir
        }
        return options
    }

    /// The per-address connection cap in force. Left to its default it is at most half of
    /// `--max-connections`, so one address can never fill the server; given explicitly it is
    /// honoured (a benchmark from one address needs that) and WebApp warns when it can.
    public var perAddressConnectionCap: Int {
        maxConnectionsPerIP ?? min(256, max(1, maxConnections / 2))
    }

    public static let help = """
        Usage: kitt web [options]

        Serve the KITT REST API (https://HOST:PORT/api/v1/).

        Options:
          --host HOST                 address to listen on (default 0.0.0.0)
          --port PORT                 port to listen on (default 8080; 0 picks a free one)
          --auth-token TOKEN          bearer token for protected endpoints (env KITT_AUTH_TOKEN);
                                      without one a random token is generated and kept in the data dir
          --auth-token-file FILE      read the token from FILE instead, so it is not in 'ps'
                                      (env KITT_AUTH_TOKEN_FILE; keep the file 0600)
          --insecure                  plain HTTP (and no auth unless a token is given)
          --legacy                    read-only v1 dashboard over plain HTTP
          --tls-cert FILE --tls-key FILE
                                      serve this certificate instead of the generated local CA's
          --data-dir DIR              where kitt keeps its files (default ~/.kitt)
          --db FILE                   SQLite database (default <data-dir>/kitt.db)
          --database URL              keep the store in PostgreSQL instead (env KITT_DATABASE_URL):
                                      postgres://USER@HOST:5432/DB[?sslmode=require]; password from
                                      the URL, PGPASSWORD or ~/.pgpass. Several instances may share it
          --model-dir DIR             model directory (env KITT_MODEL_DIR; default <data-dir>/models)
          --devon-url URL             Devon model manager (env DEVON_URL; key in DEVON_API_KEY)
          --config-dir DIR            kitt's data files (engines.json, ...; env KITT_CONFIG_DIR)
          --agent-offline-after SECS  agents without a heartbeat this long are offline (default 90)
          --provision-expiry SECS     provisioned agents that never register are removed (default 86400)
          --sse-keepalive SECS        keepalive comment interval on event streams (default 15)
          --quicktest-timeout SECS    a quick test running longer fails (default 1800)
          --max-head-bytes N          request line + headers limit (default 16384 → 431)
          --max-body-bytes N          request body limit (default 8388608 → 413)
          --header-timeout SECS       time to send a request head (default 10)
          --idle-timeout SECS         idle keep-alive connections close after (default 60)
          --max-connections N         open connections at most (default 20000)
          --event-loops N             queues running connection work (default: one per core)
          --max-connections-per-ip N  connections one client address may hold (default 256, or
                                      half of --max-connections if that is less); more get 503
          --max-sse-per-ip N          event streams one client address may hold (default 64); more get 429
          --body-timeout SECS         a request body must arrive in full within (default 60 → 408)
          --allowed-host NAME         with auth off, also accept this Host name (repeatable; IP
                                      literals, localhost and this machine's name always are)
          --quiet                     no access log (the banner, lifecycle lines and errors stay)
          --log-format text|json      log lines as text (default) or JSON objects, one per line
          --metrics-token TOKEN       require this bearer token on GET /metrics (default: open)
          --config FILE               read options from FILE: 'key = value' per line, key = a flag
                                      without '--' (true/false for switches); flags given here win
          --results-dir DIR           KITT's results directory: with --legacy the dashboard reads every
                                      metrics.json under DIR (kitt-results/**, karr-*/...) directly;
                                      without --legacy they are imported into the store at start
          --tls-ca FILE               the CA that issued the --tls-cert certificate; install.sh makes
                                      agents trust it
          --debug                     verbose log (settings in force, results-dir scans)
          -h, --help                  show this help
        """
}

/// Walks `--flag value`, `--flag=value` and positional words.
struct ArgumentIterator {
    private var remaining: ArraySlice<String>
    private(set) var positional: [String] = []

    init(_ arguments: [String]) { remaining = arguments[...] }

    mutating func nextFlag() -> (String, String?)? {
        while let word = remaining.popFirst() {
            if word.hasPrefix("--") {
                if let equals = word.firstIndex(of: "=") {
                    return (String(word[..<equals]), String(word[word.index(after: equals)...]))
                }
                return (word, nil)
            }
            if word.hasPrefix("-") && word.count > 1 { return (word, nil) }
            positional.append(word)
        }
        return nil
    }

    mutating func value(for flag: String, inline: String?) throws -> String {
        if let inline { return inline }
        guard let next = remaining.popFirst() else { throw UsageError("\(flag) needs a value") }
        return next
    }
}
