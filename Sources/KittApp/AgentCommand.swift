import KittJSON
import Dispatch
import KittBase
import KittAPI
import KittAgent
import Synchronization

#if canImport(Glibc)
    import Glibc
#endif

/// `kitt agent`: runs a KITT agent until SIGINT/SIGTERM (then exit 0).
public enum AgentCommand {
    /// Parses the arguments (after the word `agent`) and the config file, runs the agent and
    /// returns the exit code: 2 for a usage mistake, 1 when it cannot start.
    public static func run(_ arguments: [String], environment: [String: String]) -> Int32 {
        if arguments.contains("--help") || arguments.contains("-h") {
            print(AgentConfiguration.help)
            return 0
        }
        let home = environment["HOME"].flatMap { $0.isEmpty ? nil : $0 }
        let facts = MachineFacts.gather()
        let config: AgentConfiguration
        do {
            let (parsed, warnings) = try AgentConfiguration.parse(
                arguments, home: home, hostname: facts.hostname, readFile: readFile)
            for warning in warnings { agentLog("warning: \(warning)") }
            config = parsed
        } catch {
            printError("kitt agent: \(error.description)")
            return 2
        }
        let server: HTTPAgentServer
        do {
            server = try HTTPAgentServer(baseURL: config.server, token: config.token, caFile: config.caFile)
        } catch {
            printError("kitt agent: \(error.description)")
            return 1
        }

        // A write to a socket whose peer is gone must return EPIPE, not kill the process.
        signal(SIGPIPE, SIG_IGN)
        let stopped = DispatchSemaphore(value: 0)
        let gaveUp = Mutex<String?>(nil)
        let agent = Agent(
            config: config, server: server, facts: facts, version: KittVersion.current, home: home ?? "/tmp",
            log: agentLog,
            onPermanentFailure: { reason in
                gaveUp.withLock { $0 = reason }
                stopped.signal()
            })
        agentLog(
            "kitt agent \(KittVersion.current) '\(config.name)' → \(config.server); \(facts.cpuModel), "
                + "\(facts.cores) cores, \(facts.ramGB) GB RAM, GPUs: \(facts.gpuSummary)"
                + "; engine: \(config.engineURL ?? "from each command")")

        let signals = DispatchQueue(label: "kitt.agent.signals")
        var sources: [any DispatchSourceSignal] = []
        for signalNumber in [SIGINT, SIGTERM] {
            signal(signalNumber, SIG_IGN)
            let source = DispatchSource.makeSignalSource(signal: signalNumber, queue: signals)
            source.setEventHandler { stopped.signal() }
            source.resume()
            sources.append(source)
        }
        agent.start()
        stopped.wait()
        agentLog("stopping: finishing reports to the server")
        agent.stop()
        _ = sources
        if let reason = gaveUp.withLock({ $0 }) {
            printError("kitt agent: \(reason)")
            return 1
        }
        agentLog("stopped")
        return 0
    }

    /// One timestamped line on stderr (journald and agent.log both take it as is).
    @Sendable static func agentLog(_ line: String) {
        let text = "\(Timestamp.now()) kitt-agent: \(line)\n"
        _ = text.utf8CString.withUnsafeBufferPointer { write(2, $0.baseAddress, $0.count - 1) }
    }

    /// The agent config file's text (its first MiB), nil when it cannot be read.
    static func readFile(_ path: String) -> String? {
        Files.readPrefix(path, maxBytes: 1 << 20).map { String(decoding: $0, as: UTF8.self) }
    }
}
