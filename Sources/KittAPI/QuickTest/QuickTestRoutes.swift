import KittHTTP
import KittJSON
import KittStore

/// Quick tests (SPEC §5): launch one model × engine × benchmark run on an agent, follow its
/// status and logs. `GET /quicktest/models` belongs to the models feature.
enum QuickTestRoutes {
    static func register(in router: inout Router, context: APIContext) {
        let catalog = EngineCatalog.load(configDirectory: context.settings.configDirectory)
        let base = "/api/v1/quicktest"

        router.post(base) { request in try create(request, context: context, catalog: catalog) }

        router.get(base) { request in
            let page = try Page(from: request)
            let (items, total) = try context.store.quickTests.list(
                status: request.queryValue("status"), agentName: request.queryValue("agent_name"),
                campaignID: request.queryValue("campaign_id"), limit: page.size, offset: page.offset)
            return .json(page.envelope(items: items.map(\.json), total: total))
        }

        router.get(base + "/agent-capabilities") { request in
            let agentIDOrName = request.queryValue("agent_id")
            return StoreWork.deferred(context.store) { try capabilities(agentIDOrName, context: context, catalog: catalog) }
        }

        // → `{"<engine>": {"formats": [...], "modes": [...], "default_mode"}}` (Config/engines.json).
        router.get(base + "/engine-formats") { _ in .json(catalog.formatsJSON) }

        // → `{"profiles": [profile, ...]}` (the engine profiles of /engines/profiles).
        router.get(base + "/engine-profiles") { request in
            let engine = request.queryValue("engine")
            return StoreWork.deferred(context.store) {
                .json(["profiles": .array(try context.store.engineProfiles.list(engine: engine).map(\.json))])
            }
        }

        router.get(base + "/:id") { request in
            guard let test = try context.store.quickTests.get(id: request.parameter("id")) else {
                throw HTTPError.notFound("quick test not found")
            }
            return .json(test.json)
        }

        router.get(base + "/:id/logs") { request in
            guard let lines = try context.store.quickTests.logs(testID: request.parameter("id")) else {
                throw HTTPError.notFound("quick test not found")
            }
            return .json(["lines": .array(lines.map(\.json))])
        }

        router.post(base + "/:id/logs") { request in
            let testID = request.parameter("id")
            let owner = try testCaller(request, context: context)
            let line = try request.jsonObject().requiredLine()
            return .deferred { promise in
                context.store.quickTests.appendLogAsync(testID: testID, line: line, agentID: owner) { result in
                    switch result {
                    case .success(.some(let agentID)):
                        publishLog(context: context, testID: testID, agentID: agentID, line: line)
                        promise.succeed(.json(["ok": true]))
                    case .success(.none):
                        promise.fail(HTTPError.notFound("quick test not found"))
                    case .failure(let error):
                        promise.fail(error)
                    }
                }
            }
        }

        router.post(base + "/:id/status") { request in
            let testID = request.parameter("id")
            let owner = try testCaller(request, context: context)
            let body = try request.jsonObject()
            let status = try body.requiredString("status")
            guard QuickTestLifecycle.reportableStatuses.contains(status) else {
                throw HTTPError.badRequest("'status' must be one of running, completed, failed; got '\(status)'")
            }
            let error = try body.optionalString("error")
            try AgentLimits.check(error, "error", maxBytes: AgentLimits.maxTextBytes)
            guard
                try QuickTestLifecycle.setStatus(
                    context: context, testID: testID, status: status, error: error, agentID: owner)
            else { throw HTTPError.notFound("quick test not found") }
            return .json(.object(JSONObject([("ok", true), ("status", .string(status))])))
        }
    }

    // MARK: - Handlers

    /// Body: `{agent_id (id or name), model_path, engine_name, benchmark_name?, suite_name?,
    /// engine_mode?, profile_id?, force?}` → 202 `{"id", "status": "queued", "command_id"}`.
    static func create(_ request: HTTPRequest, context: APIContext, catalog: EngineCatalog) throws -> HTTPResponse {
        try context.auth.requireAdmin(request)
        let body = try request.jsonObject()
        let agentIDOrName = try body.requiredString("agent_id")
        let modelPath = try body.requiredString("model_path")
        let engineName = try body.requiredString("engine_name")
        let benchmarkName = try body.optionalString("benchmark_name")
        let suiteName = try body.optionalString("suite_name")
        let engineMode = try body.optionalString("engine_mode")
        let profileID = try body.optionalString("profile_id")
        let force = try body.optionalBool("force") ?? false

        return StoreWork.deferred(context.store) {
            let agent = try AgentLookup.resolve(agentIDOrName, context)
            // Looks at the model path on disk: off the event loop too.
            if !force, let problem = catalog.formatProblem(engine: engineName, formats: ModelFormat.detect(modelPath)) {
                throw HTTPError.badRequest(problem)
            }
            var new = NewQuickTest(agentID: agent.id, agentName: agent.name, modelPath: modelPath, engineName: engineName)
            if let benchmarkName, !benchmarkName.isEmpty { new.benchmarkName = benchmarkName }
            if let suiteName, !suiteName.isEmpty { new.suiteName = suiteName }
            if let engineMode, !engineMode.isEmpty { new.engineMode = engineMode }
            new.profileID = profileID
            let test = try context.store.quickTests.create(new)
            QuickTestLifecycle.publishStatus(context: context, test: test)
            return .json(
                .object(
                    JSONObject([
                        ("id", .string(test.id)), ("status", .string(test.status)),
                        ("command_id", test.commandID.map(JSON.string) ?? .null),
                    ])), status: .accepted)
        }
    }

    /// `{"<agent_id>": {name, cpu_arch, engines: {"<engine>": {compatible, reason?}}}}`, for every
    /// agent or the one `agentIDOrName` names (404 when none).
    static func capabilities(_ agentIDOrName: String?, context: APIContext, catalog: EngineCatalog) throws
        -> HTTPResponse
    {
        let agents: [AgentSummary]
        if let agentIDOrName {
            agents = [try AgentLookup.resolve(agentIDOrName, context)]
        } else {
            agents = try context.store.quickTests.agents()
        }
        var result = JSONObject()
        for agent in agents {
            var engines = JSONObject()
            for engine in catalog.engines {
                if let reason = catalog.platformProblem(engine: engine.name, cpuArch: agent.cpuArch) {
                    engines[engine.name] = .object(JSONObject([("compatible", false), ("reason", .string(reason))]))
                } else {
                    engines[engine.name] = .object(JSONObject([("compatible", true)]))
                }
            }
            result[agent.id] = .object(
                JSONObject([
                    ("name", .string(agent.name)), ("cpu_arch", .string(agent.cpuArch)), ("engines", .object(engines)),
                ]))
        }
        return .json(.object(result))
    }

    /// The admin token (nil: any test), or an agent's token (its id: only its own tests are
    /// found; another agent's test is a 404 like an unknown one). 401/403 before any lookup.
    static func testCaller(_ request: HTTPRequest, context: APIContext) throws -> String? {
        let caller = try context.auth.agentCaller(
            request, store: context.store, installTokenExpiry: context.settings.provisionExpirySeconds)
        try caller.requireBound()
        return caller.scopedAgentID
    }

    /// `log` `{line, test_id}`, also on the agent's stream.
    static func publishLog(context: APIContext, testID: String, agentID: String, line: String) {
        context.events.publish(
            "log", sources: [testID, agentID], data: .object(JSONObject([("line", .string(line)), ("test_id", .string(testID))])))
    }
}

extension JSONObject {
    /// `line`: a string (may be empty).
    fileprivate func requiredLine() throws(HTTPError) -> String {
        guard let value = self["line"], !value.isNull else { throw HTTPError.badRequest("'line' is required") }
        guard let line = value.stringValue else {
            throw HTTPError.badRequest("'line' must be a string, got \(value.typeName)")
        }
        try AgentLimits.check(line, "line", maxBytes: AgentLimits.maxLogLineBytes)
        return line
    }
}
