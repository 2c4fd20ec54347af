import KittBase
/// What `kitt agent` runs with: the command line and `~/.kitt/agent.conf` (written by
/// install.sh as `key=value` lines) merged, flags beating the file.
public struct AgentConfiguration: Sendable, Equatable {
    /// Server base URL without a trailing slash (`https://kitt.lab:8080`).
    public var server: String
    public var token: String
    public var name: String
    /// The port the agent announces (KITT agents listen on 8090; kitt's agent only reports it).
    public var port = 8090
    /// CA certificate that signs the server's certificate (install.sh writes `~/.kitt/ca.pem`).
    public var caFile: String?
    /// Model storage (cleanup_storage works only under it). nil: the server's
    /// `model_storage_dir` setting, else `~/.kitt/models`.
    public var storageDirectory: String?
    /// The OpenAI-compatible engine (`http://127.0.0.1:8000`); a command's `engine_url` wins.
    public var engineURL: String?
    /// The model name sent to the engine; nil sends the command's `model_path`.
    public var engineModel: String?
    /// Fixed heartbeat interval (tests); nil follows the server's `heartbeat_interval_s`.
    public var heartbeatInterval: Double?
    /// Throughput: prompts in all and requests in flight at once.
    public var throughputPrompts = 8
    public var throughputConcurrency = 2
    /// Latency: streaming requests, one after the other.
    public var latencyRequests = 5
    public var maxTokens = 64
    /// Longest wait for one engine response (a hung engine fails the test after this).
    public var engineTimeout: Double = 120
    /// `engine.<name>.install|start|stop` lines: what install_engine/start_engine/stop_engine run.
    public var engineCommands = EngineCommands()

    public init(server: String, token: String, name: String) {
        self.server = server
        self.token = token
        self.name = name
    }

    /// The keys of the config file; each flag is `--` + the key with `_` → `-`, plus `--ca`.
    public static let keys: [String] = [
        "server", "token", "name", "port", "ca_file", "storage_dir", "engine_url", "engine_model",
        "heartbeat_interval", "throughput_prompts", "throughput_concurrency", "latency_requests",
        "max_tokens", "engine_timeout",
    ]

    /// Builds the configuration from `kitt agent` arguments (after the word `agent`) and the
    /// config file. `readFile` returns a file's text or nil when it does not exist; the
    /// default file (`<home>/.kitt/agent.conf`) may be missing, a `--config` file may not.
    public static func parse(
        _ arguments: [String], home: String?, hostname: String, readFile: (String) -> String?
    ) throws(AgentConfigError) -> (AgentConfiguration, warnings: [String]) {
        var flags: [String: String] = [:]
        var configPath: String?
        var index = 0
        while index < arguments.count {
            let word = arguments[index]
            index += 1
            guard word.hasPrefix("--") else { throw AgentConfigError("unexpected argument '\(word)'") }
            var flag = word
            var value: String?
            if let equals = word.firstIndex(of: "=") {
                flag = String(word[..<equals])
                value = String(word[word.index(after: equals)...])
            }
            let key = flag == "--ca" ? "ca_file" : String(flag.dropFirst(2)).replacing("-", with: "_")
            guard key == "config" || keys.contains(key) else {
                throw AgentConfigError("unknown option '\(flag)' (see 'kitt agent --help')")
            }
            if value == nil {
                guard index < arguments.count else { throw AgentConfigError("\(flag) needs a value") }
                value = arguments[index]
                index += 1
            }
            if key == "config" { configPath = value } else { flags[key] = value }
        }

        var values: [String: String] = [:]
        var warnings: [String] = []
        let path = configPath ?? home.map { "\($0)/.kitt/agent.conf" }
        if let path {
            if let text = readFile(path) {
                let (parsed, fileWarnings) = try parseFile(text, path: path)
                values = parsed
                warnings = fileWarnings
            } else if configPath != nil {
                throw AgentConfigError("cannot read config file \(path)")
            }
        }
        for (key, value) in flags { values[key] = value }
        return (try make(from: values, hostname: hostname, home: home), warnings)
    }

    /// `key=value` lines; `#` comments and blank lines skipped; spaces around key and value
    /// trimmed; one pair of surrounding quotes removed. Unknown keys are warnings (a newer
    /// install.sh may write more). A key given twice, or a control character in a line, is an
    /// error: either would mean the file was not written as install.sh writes it (SPEC §7.2),
    /// e.g. a second `server=` smuggled in to send the token elsewhere.
    public static func parseFile(_ text: String, path: String) throws(AgentConfigError) -> ([String: String], [String])
    {
        var values: [String: String] = [:]
        var warnings: [String] = []
        // "\r\n" is one Character in Swift: split on it too, so CRLF files read line by line.
        let lines = text.split(omittingEmptySubsequences: false, whereSeparator: { $0 == "\n" || $0 == "\r\n" })
        for (number, rawLine) in lines.enumerated() {
            let line = trim(rawLine)
            if line.isEmpty || line.hasPrefix("#") { continue }
            if let control = line.unicodeScalars.first(where: { $0.value < 0x20 || $0.value == 0x7F }) {
                throw AgentConfigError(
                    "\(path):\(number + 1): control character U+\(String(control.value, radix: 16, uppercase: true)) in the line")
            }
            guard let equals = line.firstIndex(of: "=") else {
                throw AgentConfigError("\(path):\(number + 1): expected key=value")
            }
            let key = trim(line[..<equals])
            var value = trim(line[line.index(after: equals)...])
            if value.count >= 2, let first = value.first, first == "\"" || first == "'", value.last == first {
                value = String(value.dropFirst().dropLast())
            }
            let canonical = key == "ca" ? "ca_file" : key
            if keys.contains(canonical) || EngineCommands.isKey(canonical) {
                guard values[canonical] == nil else {
                    throw AgentConfigError("\(path):\(number + 1): '\(canonical)' is given twice")
                }
                values[canonical] = value
            } else {
                warnings.append("\(path):\(number + 1): unknown key '\(key)' ignored")
            }
        }
        return (values, warnings)
    }

    static func make(from values: [String: String], hostname: String, home: String? = nil) throws(AgentConfigError)
        -> AgentConfiguration
    {
        func required(_ key: String) throws(AgentConfigError) -> String {
            guard let value = values[key], !value.isEmpty else {
                throw AgentConfigError(
                    "missing \(key): give --\(key.replacing("_", with: "-")) or '\(key)=' in the config file")
            }
            return value
        }
        func integer(_ key: String, _ range: ClosedRange<Int>) throws(AgentConfigError) -> Int? {
            guard let text = values[key] else { return nil }
            guard let value = Int(text), range.contains(value) else {
                throw AgentConfigError(
                    "\(key) must be an integer in \(range.lowerBound)-\(range.upperBound), got '\(text)'")
            }
            return value
        }
        func number(_ key: String, _ range: ClosedRange<Double>) throws(AgentConfigError) -> Double? {
            guard let text = values[key] else { return nil }
            guard let value = Double(text), range.contains(value) else {
                throw AgentConfigError(
                    "\(key) must be a number from \(range.lowerBound) to \(range.upperBound), got '\(text)'")
            }
            return value
        }
        func optional(_ key: String) -> String? {
            guard let value = values[key], !value.isEmpty else { return nil }
            return value
        }

        var server = try required("server")
        while server.hasSuffix("/") { server.removeLast() }
        guard server.hasPrefix("https://") || server.hasPrefix("http://") else {
            throw AgentConfigError("server must be an http:// or https:// URL, got '\(server)'")
        }
        var config = AgentConfiguration(
            server: server, token: try required("token"), name: optional("name") ?? hostname)
        if let port = try integer("port", 1...65535) { config.port = port }
        config.caFile = optional("ca_file")
        if let storage = optional("storage_dir") {
            if let problem = StoragePolicy.problem(with: storage, home: home) {
                throw AgentConfigError("storage_dir: \(problem)")
            }
            config.storageDirectory = storage
        }
        if var engine = optional("engine_url") {
            while engine.hasSuffix("/") { engine.removeLast() }
            guard engine.hasPrefix("http://") || engine.hasPrefix("https://") else {
                throw AgentConfigError("engine_url must be an http:// or https:// URL, got '\(engine)'")
            }
            config.engineURL = engine
        }
        config.engineModel = optional("engine_model")
        config.heartbeatInterval = try number("heartbeat_interval", 0.05...300)
        if let n = try integer("throughput_prompts", 1...10_000) { config.throughputPrompts = n }
        if let n = try integer("throughput_concurrency", 1...256) { config.throughputConcurrency = n }
        if let n = try integer("latency_requests", 1...10_000) { config.latencyRequests = n }
        if let n = try integer("max_tokens", 1...32_768) { config.maxTokens = n }
        if let t = try number("engine_timeout", 0.1...86_400) { config.engineTimeout = t }
        config.engineCommands = EngineCommands.from(values)
        return config
    }

    /// Config and procfs lines: without surrounding spaces, tabs and a CR.
    static func trim(_ text: Substring) -> String { String(text.trimmed(" \t\r")) }

    public static let help = """
        Usage: kitt agent [options]

        Run a KITT agent: register with a kitt server, heartbeat, run the benchmarks it sends
        against an OpenAI-compatible engine, report logs and results.

        Options (each also a 'key=value' line in the config file, key = flag without '--',
        '-' as '_'; flags win):
          --server URL                 the kitt server (https://host:8080)
          --token TOKEN                this agent's token (from install.sh) or the admin token
          --name NAME                  agent name (default: the host name)
          --port PORT                  port announced to the server (default 8090)
          --ca FILE                    CA certificate of the server (config key ca_file)
          --storage-dir DIR            model storage for cleanup_storage (default: the server's
                                       model_storage_dir setting, else ~/.kitt/models)
          --engine-url URL             OpenAI-compatible engine, e.g. http://127.0.0.1:8000
          --engine-model NAME          model name sent to the engine (default: the model path)
          --config FILE                config file (default ~/.kitt/agent.conf)
          --heartbeat-interval SECS    fixed heartbeat interval (default: the server's setting)
          --throughput-prompts N       throughput: prompts in all (default 8)
          --throughput-concurrency C   throughput: requests at once (default 2)
          --latency-requests N         latency: streaming requests (default 5)
          --max-tokens N               max_tokens per request (default 64)
          --engine-timeout SECS        longest wait for one engine response (default 120)

        Config file only: 'engine.<name>.install|start|stop = <shell command>' is what the
        server's install_engine/start_engine/stop_engine commands run ($1 engine, $2 model
        path, $3 runtime_config JSON); without such a line the command fails and says so.
        """
}

/// A configuration mistake: one line on stderr and exit code 2.
public struct AgentConfigError: Error, Equatable, CustomStringConvertible {
    public let description: String
    public init(_ description: String) { self.description = description }
}
