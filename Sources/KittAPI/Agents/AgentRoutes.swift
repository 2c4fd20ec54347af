import KittHTTP
import KittJSON
import KittStore

/// Agents (SPEC §5): register, heartbeat, list/get/patch/delete, settings, result reports,
/// cleanup. The routes parse and render; `AgentsService` validates, persists, publishes and
/// answers off the event loop (writes agents make often through group commit, so a 2xx
/// means durable and concurrent agents share fsyncs). Agent-token checks read the store:
/// they run off the loop too (`asAgentCaller`).
enum AgentRoutes {
    static func register(in router: inout Router, context: APIContext, services: Services) {
        let agents = services.agents

        router.post("/api/v1/agents/register") { request in
            context.asAgentCaller(request) { who in
                let registration = try AgentRequests.registration(try request.jsonObject())
                return .committed({ agents.register(registration, caller: who, completion: $0) }) { outcome in
                    .json(
                        .object(
                            JSONObject([
                                ("agent_id", .string(outcome.agentID)),
                                ("heartbeat_interval_s", .int(outcome.heartbeatIntervalSeconds)),
                            ])), status: .created)
                }
            }
        }

        // Admin token, or the token of the agent named by the path (by id or name). Checked
        // before existence: a non-admin token for an unknown agent is a 403, like a wrong one.
        router.post("/api/v1/agents/:id/heartbeat") { request in
            let idOrName = request.parameter("id")
            return context.asAgentCaller(request) { who in
                try who.requireActing(as: idOrName)
                let beat = try AgentRequests.heartbeat(try request.jsonObject(allowEmpty: true))
                return .committed({ agents.heartbeat(idOrName: idOrName, beat, completion: $0) }) { outcome in
                    .json(
                        .object(
                            JSONObject([
                                ("ack", true), ("agent_id", .string(outcome.agentID)),
                                ("commands", .array(outcome.command.map { [$0.json] } ?? [])),
                                ("settings", AgentSettings.json(outcome.settings)),
                            ])))
                }
            }
        }

        router.get("/api/v1/agents") { request in
            let page = try Page(from: request)
            return .committed({ agents.list(limit: page.size, offset: page.offset, completion: $0) }) { found in
                .json(page.envelope(items: found.items.map(\.json), total: found.total))
            }
        }

        router.get("/api/v1/agents/:id") { request in
            .committed({ agents.get(idOrName: request.parameter("id"), completion: $0) }) { agent in
                guard let agent else { throw HTTPError.notFound("agent not found") }
                return .json(agent.json)
            }
        }

        router.patch("/api/v1/agents/:id") { request in
            try context.auth.requireAdmin(request)
            let body = try request.jsonObject()
            let notes = try body.optionalString("notes")
            let tags = try body.optionalStringArray("tags")
            let idOrName = request.parameter("id")
            return .committed({ agents.update(idOrName: idOrName, notes: notes, tags: tags, completion: $0) }) { updated in
                guard updated else { throw HTTPError.notFound("agent not found") }
                return .json(["updated": true])
            }
        }

        router.delete("/api/v1/agents/:id") { request in
            try context.auth.requireAdmin(request)
            return .committed({ agents.delete(idOrName: request.parameter("id"), completion: $0) }) { deleted in
                guard deleted else { throw HTTPError.notFound("agent not found") }
                return .json(["deleted": true])
            }
        }

        router.get("/api/v1/agents/:id/settings") { request in
            try context.auth.requireAdmin(request)
            return .committed({ agents.settings(idOrName: request.parameter("id"), completion: $0) }) { settings in
                guard let settings else { throw HTTPError.notFound("agent not found") }
                return .json(AgentSettings.json(settings))
            }
        }

        router.put("/api/v1/agents/:id/settings") { request in
            try context.auth.requireAdmin(request)
            let values = try AgentRequests.settings(try request.jsonObject())
            return .committed({ agents.updateSettings(idOrName: request.parameter("id"), values, completion: $0) }) {
                updated in
                guard updated else { throw HTTPError.notFound("agent not found") }
                return .json(["updated": true])
            }
        }

        router.post("/api/v1/agents/:id/results") { request in
            let idOrName = request.parameter("id")
            return context.asAgentCaller(request) { who in
                try who.requireActing(as: idOrName)
                let report = try AgentRequests.report(request)
                return .committed({ agents.report(agentIDOrName: idOrName, report, caller: who, completion: $0) }) {
                    outcome in
                    var body = JSONObject([("accepted", true)])
                    if let resultID = outcome.resultID { body["result_id"] = .string(resultID) }
                    return .json(.object(body), status: .accepted)
                }
            }
        }

        router.post("/api/v1/agents/:id/cleanup") { request in
            try context.auth.requireAdmin(request)
            let body = try request.jsonObject(allowEmpty: true)
            let modelPath = try body.optionalString("model_path")
            return .committed({ agents.cleanup(idOrName: request.parameter("id"), modelPath: modelPath, completion: $0) }) {
                commandID in
                .json(.object(JSONObject([("queued", true), ("command_id", .string(commandID))])), status: .accepted)
            }
        }
    }
}

/// When an agent counts as offline: its last heartbeat is older than the cutoff.
enum OfflineRule {
    static func cutoff(_ seconds: Double) -> String {
        let now = Timestamp.epochSeconds(Timestamp.now()) ?? 0
        let then = now - seconds
        let whole = then.rounded(.down)
        return Timestamp.format(seconds: Int(whole), microseconds: Int((then - whole) * 1_000_000))
    }
}
