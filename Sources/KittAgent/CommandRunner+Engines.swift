import KittJSON

/// install_engine / start_engine / stop_engine (SPEC §7.1): run the command agent.conf
/// configures for that engine and action (see `EngineCommands`), and report the outcome on
/// the command like a test's: `completed`, or `failed` with the reason. Never a silent no-op.
extension CommandRunner {
    static let engineActions: [String: String] = [
        "install_engine": "install", "start_engine": "start", "stop_engine": "stop",
    ]

    /// Installs can pull images or build; start/stop commands should return quickly.
    static func engineTimeout(_ action: String) -> Double { action == "install" ? 3600 : 600 }

    func runEngineCommand(action: String) {
        let engine = command.string("engine_name") ?? ""
        let what = "\(command.type) \(command.id)"
        func finish(_ status: String, _ message: String) {
            agent.log("\(what): \(message)")
            reporter.report(
                command: command, status: status, error: status == "failed" ? message : nil, resultData: nil,
                extra: [("message", .string(message))])
        }
        guard !engine.isEmpty else {
            finish("failed", "the command names no engine (engine_name)")
            return
        }
        let key = EngineCommands.key(engine: engine, action: action)
        guard let shell = agent.config.engineCommands.command(engine: engine, action: action) else {
            finish(
                "failed",
                "no \(action) command configured for engine '\(engine)' on agent '\(agent.config.name)': "
                    + "add '\(key) = <command>' to agent.conf")
            return
        }
        let runtimeConfig = command.payload["runtime_config"].map { $0.isNull ? "{}" : $0.jsonString } ?? "{}"
        let modelPath = command.string("model_path") ?? ""
        agent.log("\(what): running \(key)")
        agent.state.withLock { $0.currentTestID = command.id }
        defer { agent.state.withLock { $0.currentTestID = nil } }
        // stderr joins stdout so a failure's reason reaches the report; the values are
        // positional parameters, never spliced into the command text.
        let outcome = Subprocess.run(
            ["/bin/sh", "-c", "exec 2>&1; " + shell, "kitt-engine", engine, modelPath, runtimeConfig],
            timeout: CommandRunner.engineTimeout(action))
        guard let outcome else {
            finish(
                "failed",
                "\(key) did not finish within \(Int(CommandRunner.engineTimeout(action))) s (or could not be started)")
            return
        }
        let tail = outcome.output.split(separator: "\n").suffix(20).joined(separator: "\n")
        if !tail.isEmpty { agent.log(tail) }
        if outcome.status == 0 {
            finish("completed", "\(key) succeeded" + (tail.isEmpty ? "" : ": " + String(tail.suffix(500))))
        } else {
            finish(
                "failed", "\(key) exited with status \(outcome.status)" + (tail.isEmpty ? "" : ": " + String(tail.suffix(1500))))
        }
    }
}
