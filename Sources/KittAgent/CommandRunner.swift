import KittJSON

/// Runs one command to the end and tells the server how it went. Never throws: every
/// failure becomes a `failed` report with the reason.
struct CommandRunner {
    let agent: Agent
    let command: AgentCommandItem
    var reporter: Reporter { Reporter(agent: agent) }

    func run() {
        switch command.type {
        case AgentCommandType.runTest: runTest()
        case AgentCommandType.cleanupStorage: cleanup()
        case let type where CommandRunner.engineActions[type] != nil:
            runEngineCommand(action: CommandRunner.engineActions[type] ?? "")
        default:
            let known = [AgentCommandType.runTest, AgentCommandType.cleanupStorage]
                + CommandRunner.engineActions.keys.sorted()
            let error = "unknown command type '\(command.type)': this agent runs \(known.joined(separator: ", "))"
            agent.log("command \(command.id): \(error)")
            reporter.report(command: command, status: "failed", error: error, resultData: nil)
            if let testID = command.testID { reporter.status(testID: testID, "failed", error: error) }
        }
    }

    // MARK: run_test

    func runTest() {
        let testID = command.testID
        let benchmark = command.string("benchmark_name") ?? "throughput"
        let engineName = command.string("engine_name") ?? "unknown"
        let suite = command.string("suite_name") ?? "quick"
        let modelPath = command.string("model_path") ?? command.string("model") ?? ""
        let model = agent.config.engineModel ?? command.string("model") ?? modelPath
        let log: @Sendable (String) -> Void = { [reporter] line in reporter.logLine(testID: testID, line) }

        agent.state.withLock { $0.currentTestID = testID ?? command.id }
        defer { agent.state.withLock { $0.currentTestID = nil } }
        if let testID { reporter.status(testID: testID, "running") }

        func fail(_ error: String) {
            log("failed: \(error)")
            reporter.report(command: command, status: "failed", error: error, resultData: nil)
            if let testID { reporter.status(testID: testID, "failed", error: error) }
        }
        guard let engineURL = command.string("engine_url") ?? agent.config.engineURL else {
            fail(
                "no engine endpoint: start the agent with --engine-url (or engine_url= in agent.conf), or send engine_url"
            )
            return
        }
        guard !model.isEmpty else {
            fail("the command names no model (model_path)")
            return
        }
        guard AgentCommandType.benchmarks.contains(benchmark) else {
            fail(
                "unknown benchmark '\(benchmark)': this agent runs \(AgentCommandType.benchmarks.joined(separator: ", "))"
            )
            return
        }

        let plan = BenchmarkPlan(
            model: model, prompts: agent.config.throughputPrompts, concurrency: agent.config.throughputConcurrency,
            latencyRequests: agent.config.latencyRequests, maxTokens: agent.config.maxTokens)
        switch benchmark {
        case "latency":
            log(
                "\(benchmark): \(plan.latencyRequests) streaming requests to \(engineURL) (\(engineName)), model \(model)"
            )
        default:
            log(
                "\(benchmark): \(plan.prompts) prompts, concurrency \(plan.concurrency), to \(engineURL) (\(engineName)), model \(model)"
            )
        }

        let engine = agent.makeEngine(engineURL)
        let start = Clock.now()
        let shouldStop: @Sendable () -> Bool = { [agent] in agent.isStopping }
        let outcome =
            benchmark == "latency"
            ? Benchmarks.latency(engine: engine, plan: plan, shouldStop: shouldStop, log: log)
            : Benchmarks.throughput(engine: engine, plan: plan, shouldStop: shouldStop, log: log)
        let elapsed = Clock.now() - start

        if outcome.interrupted {
            fail("the agent was stopped (SIGTERM) during the \(benchmark) benchmark")
            return
        }
        let summary = outcome.metrics.map { "\($0.0)=\(format($0.1))" }.joined(separator: " ")
        log("\(benchmark) done in \(format(elapsed)) s: \(summary)")

        let document = ResultDocument.make(
            model: modelPath.isEmpty ? model : modelPath, engine: engineName, suite: suite, outcome: outcome,
            totalSeconds: elapsed, version: agent.version, facts: agent.facts)
        let error = outcome.failed ? "every \(benchmark) request failed: \(outcome.errors.first ?? "no response")" : nil
        let status = outcome.failed ? "failed" : "completed"
        let reply = reporter.report(command: command, status: status, error: error, resultData: document)
        if let id = reply?.json?["result_id"]?.stringValue { log("result stored as \(id)") }
        if let testID { reporter.status(testID: testID, status, error: error) }
    }

    // MARK: cleanup_storage

    func cleanup() {
        let root = agent.storageDirectory
        let field = command.payload["model_path"]
        let target = field?.stringValue
        do throws(CleanupError) {
            if let field, !field.isNull, target == nil {
                throw CleanupError("'model_path' must be a string, got \(field.typeName)")
            }
            let freed = try StorageCleaner.clean(modelPath: target, root: root)
            let message =
                "cleanup_storage: freed \(StorageCleaner.describe(bytes: freed.bytes)) (\(freed.files) files) "
                + (target == nil ? "emptying \(freed.path)" : "removing \(freed.path)")
            agent.log(message)
            reporter.report(
                command: command, status: "completed", error: nil, resultData: nil,
                extra: [("freed_bytes", .int(Int(freed.bytes))), ("message", .string(message))])
        } catch {
            agent.log("cleanup_storage \(command.id) failed: \(error)")
            reporter.report(command: command, status: "failed", error: error.description, resultData: nil)
        }
    }

    func format(_ value: Double) -> String {
        value == value.rounded() && abs(value) < 1e15
            ? String(Int(value)) : String(Statistics.rounded(value, places: 2))
    }
}
