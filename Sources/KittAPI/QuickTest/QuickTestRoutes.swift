import KittHTTP
import KittJSON
import KittStore

/// Quick tests (SPEC §5): launch one model × engine × benchmark run on an agent, follow its
/// status and logs. `GET /quicktest/models` belongs to the models feature. The routes parse
/// and render; `QuickTestsService` does the rest off the event loop.
enum QuickTestRoutes {
    static func register(in router: inout Router, context: APIContext, services: Services) {
        let quickTests = services.quickTests
        let catalog = quickTests.catalog
        let base = "/api/v1/quicktest"

        // Body: `{agent_id (id or name), model_path, engine_name, benchmark_name?, suite_name?,
        // engine_mode?, profile_id?, force?}` → 202 `{"id", "status": "queued", "command_id"}`.
        router.post(base) { request in
            try context.auth.requireAdmin(request)
            let body = try request.jsonObject()
            var new = QuickTestsService.Request(
                agentIDOrName: try body.requiredString("agent_id"), modelPath: try body.requiredString("model_path"),
                engineName: try body.requiredString("engine_name"))
            new.benchmarkName = try body.optionalString("benchmark_name")
            new.suiteName = try body.optionalString("suite_name")
            new.engineMode = try body.optionalString("engine_mode")
            new.profileID = try body.optionalString("profile_id")
            new.force = try body.optionalBool("force") ?? false
            let asked = new
            return .committed({ quickTests.create(asked, completion: $0) }) { test in
                .json(
                    .object(
                        JSONObject([
                            ("id", .string(test.id)), ("status", .string(test.status.rawValue)),
                            ("command_id", test.commandID.map(JSON.string) ?? .null),
                        ])), status: .accepted)
            }
        }

        router.get(base) { request in
            let page = try Page(from: request)
            let status = request.queryValue("status").map(QuickTestStatus.init(rawValue:))
            let (agentName, campaignID) = (request.queryValue("agent_name"), request.queryValue("campaign_id"))
            return .committed({
                quickTests.list(
                    status: status, agentName: agentName, campaignID: campaignID, limit: page.size, offset: page.offset,
                    completion: $0)
            }) { found in .json(page.envelope(items: found.items.map(\.json), total: found.total)) }
        }

        // → `{"<agent_id>": {name, cpu_arch, engines: {"<engine>": {compatible, reason?}}}}`, for
        // every agent or the one `agent_id` names (404 when none).
        router.get(base + "/agent-capabilities") { request in
            let agentIDOrName = request.queryValue("agent_id")
            return .committed({ quickTests.agents(agentIDOrName, completion: $0) }) { agents in
                .json(capabilities(agents, catalog: catalog))
            }
        }

        // → `{"<engine>": {"formats": [...], "modes": [...], "default_mode"}}` (Config/engines.json).
        router.get(base + "/engine-formats") { _ in .json(catalog.formatsJSON) }

        // → `{"profiles": [profile, ...]}` (the engine profiles of /engines/profiles).
        router.get(base + "/engine-profiles") { request in
            let engine = request.queryValue("engine")
            return .committed({ quickTests.engineProfiles(engine: engine, completion: $0) }) { profiles in
                .json(["profiles": .array(profiles.map(\.json))])
            }
        }

        router.get(base + "/:id") { request in
            .committed({ quickTests.get(id: request.parameter("id"), completion: $0) }) { test in
                guard let test else { throw HTTPError.notFound("quick test not found") }
                return .json(test.json)
            }
        }

        router.get(base + "/:id/logs") { request in
            .committed({ quickTests.logs(testID: request.parameter("id"), completion: $0) }) { lines in
                guard let lines else { throw HTTPError.notFound("quick test not found") }
                return .json(["lines": .array(lines.map(\.json))])
            }
        }

        // The admin token (any test), or an agent's token (only its own tests are found;
        // another agent's test is a 404 like an unknown one). 401/403 before any lookup.
        router.post(base + "/:id/logs") { request in
            let testID = request.parameter("id")
            return context.asAgentCaller(request) { who in
                try who.requireBound()
                let line = try request.jsonObject().requiredLine()
                return .committed({
                    quickTests.appendLog(testID: testID, line: line, agentID: who.scopedAgentID, completion: $0)
                }) { appended in
                    guard appended else { throw HTTPError.notFound("quick test not found") }
                    return .json(["ok": true])
                }
            }
        }

        router.post(base + "/:id/status") { request in
            let testID = request.parameter("id")
            return context.asAgentCaller(request) { who in
                try who.requireBound()
                let body = try request.jsonObject()
                let status = QuickTestStatus(rawValue: try body.requiredString("status"))
                guard QuickTestsService.reportableStatuses.contains(status) else {
                    throw HTTPError.badRequest("'status' must be one of running, completed, failed; got '\(status.rawValue)'")
                }
                let error = try body.optionalString("error")
                try AgentLimits.check(error, "error", maxBytes: AgentLimits.maxTextBytes)
                return .committed({
                    quickTests.setStatus(testID: testID, status: status, error: error, agentID: who.scopedAgentID, completion: $0)
                }) { found in
                    guard found else { throw HTTPError.notFound("quick test not found") }
                    return .json(.object(JSONObject([("ok", true), ("status", .string(status.rawValue))])))
                }
            }
        }
    }

    /// `{"<agent_id>": {name, cpu_arch, engines: {"<engine>": {compatible, reason?}}}}`.
    static func capabilities(_ agents: [AgentSummary], catalog: EngineCatalog) -> JSON {
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
        return .object(result)
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
