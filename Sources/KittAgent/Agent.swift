#if canImport(Glibc)
    import Glibc
#endif
import Dispatch
import KittJSON
import KittNet
import Synchronization

/// The KITT agent: registers, heartbeats, runs the commands it is handed one at a time, and
/// reports. Two private threads (dispatch queues), no Swift concurrency: the heartbeat loop
/// and the worker. Shared state sits in one Mutex; sleeps wait on semaphores so `stop()`
/// wakes them at once.
public final class Agent: Sendable {
    public let config: AgentConfiguration
    let server: any AgentServer
    let makeEngine: @Sendable (String) -> any InferenceEngine
    let facts: MachineFacts
    let version: String
    let home: String
    let log: @Sendable (String) -> Void
    /// Called once, from the heartbeat thread, when the agent gives up for good (a refused
    /// token): the heartbeat loop has ended; the caller should stop the agent and exit 1.
    let onPermanentFailure: @Sendable (String) -> Void

    struct State {
        var agentID: String?
        var interval: Double = 30
        var settingsStorageDirectory: String?
        /// The last server `model_storage_dir` refused by `StoragePolicy` (logged once).
        var refusedStorageDirectory: String?
        var queue: [AgentCommandItem] = []
        var seen: [String] = []
        var currentTestID: String?
        var stopping = false
        var registrations = 0
        var heartbeats = 0
        /// Set when the server refused the agent's credentials (401/403): retrying cannot help.
        var permanentFailure: String?
    }

    let state = Mutex(State())
    private let heartbeatWake = DispatchSemaphore(value: 0)
    private let workAvailable = DispatchSemaphore(value: 0)
    private let heartbeatDone = DispatchSemaphore(value: 0)
    private let workerDone = DispatchSemaphore(value: 0)
    private let startTime = Clock.now()

    /// Backoff after a failed register or heartbeat: 1 s doubling to 60 s.
    public static let backoffStart = 1.0
    public static let backoffLimit = 60.0

    public init(
        config: AgentConfiguration, server: any AgentServer, facts: MachineFacts, version: String, home: String,
        log: @escaping @Sendable (String) -> Void,
        makeEngine: (@Sendable (String) -> any InferenceEngine)? = nil,
        onPermanentFailure: @escaping @Sendable (String) -> Void = { _ in }
    ) {
        self.onPermanentFailure = onPermanentFailure
        self.config = config
        self.server = server
        self.facts = facts
        self.version = version
        self.home = home
        self.log = log
        let timeout = config.engineTimeout
        self.makeEngine = makeEngine ?? { url in OpenAIEngine(baseURL: url, timeout: timeout) }
        if let fixed = config.heartbeatInterval { state.withLock { $0.interval = fixed } }
    }

    /// Where the engines' executables are looked for (the agent's PATH).
    var searchPath: String {
        getenv("PATH").map { String(cString: $0) } ?? "/usr/local/bin:/usr/bin:/bin"
    }

    // MARK: Lifecycle

    /// Starts the heartbeat loop and the worker on their own queues.
    public func start() {
        DispatchQueue(label: "kitt.agent.heartbeat").async { [self] in
            heartbeatLoop()
            heartbeatDone.signal()
        }
        DispatchQueue(label: "kitt.agent.worker").async { [self] in
            workerLoop()
            workerDone.signal()
        }
    }

    /// Stops: the current test is interrupted and reported failed, queued commands are reported
    /// failed, then both loops end. Returns when they have.
    public func stop() {
        let already = state.withLock { s -> Bool in
            defer { s.stopping = true }
            return s.stopping
        }
        guard !already else { return }
        heartbeatWake.signal()
        workAvailable.signal()
        workerDone.wait()
        heartbeatDone.wait()
    }

    public var isStopping: Bool { state.withLock { $0.stopping } }
    public var agentID: String? { state.withLock { $0.agentID } }
    public var heartbeatInterval: Double { state.withLock { $0.interval } }

    /// Where cleanup_storage works: the flag, else the server's setting, else ~/.kitt/models.
    public var storageDirectory: String {
        let fromSettings = state.withLock { $0.settingsStorageDirectory }
        return expandHome(config.storageDirectory ?? fromSettings ?? "~/.kitt/models")
    }

    func expandHome(_ path: String) -> String {
        if path == "~" { return home }
        if path.hasPrefix("~/") { return home + path.dropFirst(1) }
        return path
    }

    /// Sleeps up to `seconds`; returns early (true) when stopping.
    @discardableResult
    func pause(_ seconds: Double) -> Bool {
        if isStopping { return true }
        _ = heartbeatWake.wait(timeout: .now() + .milliseconds(Int(max(0, seconds) * 1000)))
        if isStopping {
            heartbeatWake.signal()  // keep later waits short too
            return true
        }
        return false
    }

    // MARK: Heartbeat loop

    func heartbeatLoop() {
        var backoff = Agent.backoffStart
        var unknownInARow = 0
        var failuresInARow = 0
        while !isStopping {
            let ok: Bool
            if agentID == nil {
                if register() {
                    backoff = Agent.backoffStart
                    noteReconnected(&failuresInARow)
                    continue  // heartbeat at once: commands may be waiting
                }
                ok = false
            } else {
                switch heartbeat() {
                case .ok:
                    ok = true
                    unknownInARow = 0
                case .unknownAgent:
                    log("the server does not know this agent (404): registering again")
                    state.withLock { $0.agentID = nil }
                    // A server that forgets the agent right after each register must not make a hot loop.
                    if unknownInARow > 0 {
                        pause(backoff)
                        backoff = min(backoff * 2, Agent.backoffLimit)
                    }
                    unknownInARow += 1
                    continue
                case .failed: ok = false
                }
            }
            if let reason = state.withLock({ $0.permanentFailure }) {
                log("giving up: \(reason)")
                onPermanentFailure(reason)
                return
            }
            if ok {
                backoff = Agent.backoffStart
                noteReconnected(&failuresInARow)
                pause(heartbeatInterval)
            } else {
                failuresInARow += 1
                pause(backoff)
                backoff = min(backoff * 2, Agent.backoffLimit)
            }
        }
    }

    /// After failures, the first success says so: the log's last line is not left at
    /// "connection refused" once the server is back.
    private func noteReconnected(_ failuresInARow: inout Int) {
        guard failuresInARow > 0 else { return }
        log("reconnected to \(config.server) after \(failuresInARow) failed attempt\(failuresInARow == 1 ? "" : "s")")
        failuresInARow = 0
    }

    /// 401/403: the token is wrong (or was rotated); the agent stops instead of retrying forever.
    private func checkCredentials(_ reply: ServerReply, during what: String) {
        guard reply.status == 401 || reply.status == 403 else { return }
        let reason =
            "the server refused this agent's token on \(what) (HTTP \(reply.status): \(reply.errorText)); "
            + "check the token (--token or 'token' in the config file, or reinstall with install.sh)"
        state.withLock { $0.permanentFailure = reason }
    }

    /// A failed request, with a hint when the cause is the server's certificate.
    func describeFailure(_ error: any Error) -> String {
        let text = "\(error)"
        guard config.server.hasPrefix("https"), text.contains("certificate verify failed") || text.contains("self-signed")
            || text.contains("unable to get local issuer")
        else { return text }
        let hint =
            config.caFile == nil
            ? "the server's certificate is not trusted: pass its CA with --ca FILE (a kitt server's is <data-dir>/certs/ca.pem)"
            : "the server's certificate does not verify against --ca \(config.caFile ?? ""): is it that server's CA?"
        return "\(text) — \(hint)"
    }

    /// POST /agents/register; true when the server accepted it.
    func register() -> Bool {
        let body = facts.registration(name: config.name, port: config.port, version: version)
        let reply: ServerReply
        do {
            reply = try server.post("/agents/register", body)
        } catch {
            log("register failed: \(describeFailure(error))")
            return false
        }
        checkCredentials(reply, during: "register")
        guard reply.status == 200 || reply.status == 201, let id = reply.json?["agent_id"]?.stringValue, !id.isEmpty
        else {
            log("register refused: \(reply.errorText)")
            return false
        }
        let interval = reply.json?["heartbeat_interval_s"]?.intValue
        let count = state.withLock { s -> Int in
            s.agentID = id
            if config.heartbeatInterval == nil, let interval { s.interval = Double(min(max(interval, 10), 300)) }
            s.registrations += 1
            return s.registrations
        }
        log("registered as '\(config.name)' (agent \(id))\(count > 1 ? " again" : "")")
        return true
    }

    enum HeartbeatResult { case ok, unknownAgent, failed }

    func heartbeat() -> HeartbeatResult {
        guard let id = agentID else { return .unknownAgent }
        let (task, uptime) = state.withLock { ($0.currentTestID, Clock.now() - startTime) }
        var body = JSONObject([
            ("status", .string(task == nil ? "online" : "busy")),
            ("uptime_s", .double(Statistics.rounded(uptime, places: 1))),
        ])
        if let task { body["current_task"] = .string(task) }
        if let free = StorageCleaner.freeGB(storageDirectory) ?? StorageCleaner.freeGB(home) {
            body["storage_gb_free"] = .double(free)
        }
        body["engines"] = .array(
            EngineInventory.scan(path: searchPath).map { engine in
                .object(
                    JSONObject([
                        ("engine", .string(engine.engine)), ("installed", .bool(engine.installed)),
                        ("running", .bool(engine.running)), ("version", ""), ("binary_path", .string(engine.binaryPath)),
                    ]))
            })
        if !facts.gpus.isEmpty, let usage = GPUUsage.sample() {
            body["gpu_utilization_pct"] = .double(usage.utilizationPct)
            body["gpu_memory_used_gb"] = .double(usage.memoryUsedGB)
        }
        let reply: ServerReply
        do {
            reply = try server.post("/agents/\(pathSegment(id))/heartbeat", .object(body))
        } catch {
            log("heartbeat failed: \(describeFailure(error))")
            return .failed
        }
        checkCredentials(reply, during: "heartbeat")
        if reply.status == 404 { return .unknownAgent }
        guard reply.status == 200, let json = reply.json, json.objectValue != nil else {
            log("heartbeat refused: \(reply.errorText)")
            return .failed
        }
        state.withLock { $0.heartbeats += 1 }
        if let canonical = json["agent_id"]?.stringValue, !canonical.isEmpty, canonical != id {
            state.withLock { $0.agentID = canonical }
        }
        if let settings = json["settings"]?.objectValue { apply(settings: settings) }
        for element in json["commands"]?.arrayValue ?? [] {
            guard let command = AgentCommandItem(json: element) else {
                log("ignored a malformed command from the server: \(element.jsonString.prefix(200))")
                continue
            }
            enqueue(command)
        }
        return .ok
    }

    /// Applies `heartbeat_interval_s` (10–300, unless fixed by --heartbeat-interval) and
    /// `model_storage_dir`.
    func apply(settings: JSONObject) {
        let text = settings["heartbeat_interval_s"].flatMap { $0.stringValue ?? $0.intValue.map(String.init) }
        let storage = settings["model_storage_dir"]?.stringValue
        var changes: [String] = []
        state.withLock { s in
            if config.heartbeatInterval == nil, let text, let seconds = Int(text) {
                let clamped = Double(min(max(seconds, 10), 300))
                if clamped != s.interval {
                    s.interval = clamped
                    changes.append("heartbeat interval \(Int(clamped)) s")
                }
            }
            if let storage, !storage.isEmpty, storage != s.settingsStorageDirectory,
                let problem = StoragePolicy.problem(with: storage, home: home)
            {
                // Never clean out a directory the policy forbids; say so once per new value.
                if storage != s.refusedStorageDirectory { changes.append("model storage refused: \(problem)") }
                s.refusedStorageDirectory = storage
            } else if let storage, !storage.isEmpty, storage != s.settingsStorageDirectory {
                if s.settingsStorageDirectory != nil || config.storageDirectory == nil {
                    changes.append("model storage \(storage)")
                }
                s.settingsStorageDirectory = storage
            }
        }
        if !changes.isEmpty { log("settings: " + changes.joined(separator: ", ")) }
    }

    /// Queues a command unless it was seen already (a re-sent command runs once).
    func enqueue(_ command: AgentCommandItem) {
        let (added, stopping) = state.withLock { s -> (Bool, Bool) in
            guard !s.seen.contains(command.id) else { return (false, s.stopping) }
            s.seen.append(command.id)
            if s.seen.count > 1000 { s.seen.removeFirst(s.seen.count - 1000) }
            // Once stopping, the worker may have drained the queue already: answer here instead.
            if !s.stopping { s.queue.append(command) }
            return (true, s.stopping)
        }
        guard added else { return }
        if stopping {
            reportNotRun(command)
            return
        }
        log("received \(command.type) \(command.id)\(command.testID.map { " (test \($0))" } ?? "")")
        workAvailable.signal()
    }

    // MARK: Worker

    func workerLoop() {
        while true {
            workAvailable.wait()
            while let command = state.withLock({ s -> AgentCommandItem? in
                s.queue.isEmpty ? nil : s.queue.removeFirst()
            }) {
                if isStopping {
                    reportNotRun(command)
                } else {
                    CommandRunner(agent: self, command: command).run()
                }
            }
            if isStopping { return }
        }
    }

    /// A queued command that the agent will not run because it is shutting down.
    func reportNotRun(_ command: AgentCommandItem) {
        let error = "the agent '\(config.name)' shut down before running this command"
        log("\(command.type) \(command.id): not run (shutting down)")
        let reporter = Reporter(agent: self)
        reporter.report(command: command, status: "failed", error: error, resultData: nil)
        if let testID = command.testID { reporter.status(testID: testID, "failed", error: error) }
    }
}
