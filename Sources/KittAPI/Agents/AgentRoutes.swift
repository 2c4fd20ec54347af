import Dispatch
import KittHTTP
import KittJSON
import KittStore

/// Agents (SPEC §5): register, heartbeat, list/get/patch/delete, settings, result reports,
/// cleanup. Writes agents make often answer after a group commit (`.deferred` +
/// `writeAsync`), so a 2xx means durable and concurrent agents share fsyncs.
/// Quick-test status changes that agent reports imply run here, not on the store's queues.
private let reportQueue = DispatchQueue(label: "kitt.agents.reports")

enum AgentRoutes {
    static func register(in router: inout Router, context: APIContext) {
        let store = context.store
        let offlineAfter = context.settings.agentOfflineAfterSeconds

        let installTokenExpiry = context.settings.provisionExpirySeconds

        /// Who is calling (one check for every agent-token route, see `Auth.agentCaller`).
        @Sendable func caller(_ request: HTTPRequest) throws -> AgentCaller {
            try context.auth.agentCaller(request, store: store, installTokenExpiry: installTokenExpiry)
        }

        /// Admin token, or the token of the agent named by the path (by id or name). Checked
        /// before existence: a non-admin token for an unknown agent is a 403, like a wrong one.
        @discardableResult
        @Sendable func requireAgent(_ request: HTTPRequest, _ idOrName: String) throws -> AgentCaller {
            let who = try caller(request)
            try who.requireActing(as: idOrName)
            return who
        }

        @Sendable func publishStatus(id: String, name: String, status: String) {
            context.events.publish(
                "agent_status", sources: [id],
                data: .object(JSONObject([("agent_id", .string(id)), ("name", .string(name)), ("status", .string(status))])))
        }

        router.post("/api/v1/agents/register") { request in
            let who = try caller(request)
            let registration = try AgentRequests.registration(try request.jsonObject())
            var installTokenHash: String?
            if case .installToken(let hash) = who { installTokenHash = hash }
            let pending = installTokenHash
            let cutoff = OfflineRule.cutoff(installTokenExpiry)
            return .committed({
                store.agents.register(
                    registration, tokenAgentID: who.scopedAgentID, installTokenHash: pending,
                    installTokenCutoff: cutoff, completion: $0)
            }) {
                outcome in
                publishStatus(id: outcome.agentID, name: outcome.name, status: "online")
                return .json(
                    .object(
                        JSONObject([
                            ("agent_id", .string(outcome.agentID)),
                            ("heartbeat_interval_s", .int(outcome.heartbeatIntervalSeconds)),
                        ])), status: .created)
            }
        }

        router.post("/api/v1/agents/:id/heartbeat") { request in
            let idOrName = request.parameter("id")
            try requireAgent(request, idOrName)
            let beat = try AgentRequests.heartbeat(try request.jsonObject(allowEmpty: true))
            let cutoff = OfflineRule.cutoff(offlineAfter)
            return .committed({ store.agents.heartbeat(idOrName: idOrName, beat, offlineCutoff: cutoff, completion: $0) }) {
                outcome in
                if outcome.statusChanged { publishStatus(id: outcome.agentID, name: outcome.name, status: outcome.status) }
                QuickTestLifecycle.didDispatch(context: context, test: outcome.dispatchedTest)
                return .json(
                    .object(
                        JSONObject([
                            ("ack", true), ("agent_id", .string(outcome.agentID)),
                            ("commands", .array(outcome.command.map { [$0.json] } ?? [])),
                            ("settings", AgentSettings.json(outcome.settings)),
                        ])))
            }
        }

        router.get("/api/v1/agents") { request in
            let page = try Page(from: request)
            let (total, items) = try store.agents.list(
                limit: page.size, offset: page.offset, offlineCutoff: OfflineRule.cutoff(offlineAfter))
            return .json(page.envelope(items: items, total: total))
        }

        router.get("/api/v1/agents/:id") { request in
            guard let agent = try store.agents.get(idOrName: request.parameter("id"), offlineCutoff: OfflineRule.cutoff(offlineAfter))
            else { throw HTTPError.notFound("agent not found") }
            return .json(agent)
        }

        router.patch("/api/v1/agents/:id") { request in
            try context.auth.requireAdmin(request)
            let body = try request.jsonObject()
            let notes = try body.optionalString("notes")
            let tags = try body.optionalStringArray("tags")
            guard notes != nil || tags != nil else { throw HTTPError.badRequest("nothing to update: give 'notes' or 'tags'") }
            guard try store.agents.update(idOrName: request.parameter("id"), notes: notes, tags: tags) else {
                throw HTTPError.notFound("agent not found")
            }
            return .json(["updated": true])
        }

        router.delete("/api/v1/agents/:id") { request in
            try context.auth.requireAdmin(request)
            guard try store.agents.delete(idOrName: request.parameter("id")) else {
                throw HTTPError.notFound("agent not found")
            }
            return .json(["deleted": true])
        }

        router.get("/api/v1/agents/:id/settings") { request in
            try context.auth.requireAdmin(request)
            guard let settings = try store.agents.settings(idOrName: request.parameter("id")) else {
                throw HTTPError.notFound("agent not found")
            }
            return .json(AgentSettings.json(settings))
        }

        router.put("/api/v1/agents/:id/settings") { request in
            try context.auth.requireAdmin(request)
            let values = try AgentRequests.settings(try request.jsonObject())
            guard try store.agents.updateSettings(idOrName: request.parameter("id"), values) else {
                throw HTTPError.notFound("agent not found")
            }
            return .json(["updated": true])
        }

        router.post("/api/v1/agents/:id/results") { request in
            let idOrName = request.parameter("id")
            let who = try requireAgent(request, idOrName)
            let report = try AgentRequests.report(request)
            // With the agent's own token the test and command named must be its own (else 404,
            // nothing stored, nothing published, no queue drained); the admin acts on anything.
            let owner = who.scopedAgentID
            return .committed({
                store.agents.report(
                    agentIDOrName: idOrName, document: report.document, commandID: report.commandID,
                    testID: report.testID, finished: report.finished, scoped: owner != nil, completion: $0)
            }) { outcome in
                var body = JSONObject([("accepted", true)])
                if let resultID = outcome.resultID { body["result_id"] = .string(resultID) }
                let accepted = HTTPResponse.json(.object(body), status: .accepted)
                guard let status = report.testStatus, let testID = outcome.testID else { return accepted }
                // The report also moves the quick test along (and wakes its campaign): a write of
                // its own, done off the store's completion queue, answered once it is done.
                return .deferred { promise in
                    reportQueue.async {
                        do {
                            _ = try QuickTestLifecycle.setStatus(
                                context: context, testID: testID, status: status, error: report.error, agentID: owner)
                            promise.succeed(accepted)
                        } catch {
                            promise.fail(error)
                        }
                    }
                }
            }
        }

        router.post("/api/v1/agents/:id/cleanup") { request in
            try context.auth.requireAdmin(request)
            let body = try request.jsonObject(allowEmpty: true)
            var payload = JSONObject()
            if let modelPath = try body.optionalString("model_path") { payload["model_path"] = .string(modelPath) }
            guard let agent = try store.agents.identity(idOrName: request.parameter("id")) else {
                throw HTTPError.notFound("agent not found")
            }
            let command = JSON.object(payload)
            return .committed({
                store.agents.queueCommand(agentID: agent.id, type: "cleanup_storage", payload: command, completion: $0)
            }) { commandID in
                .json(.object(JSONObject([("queued", true), ("command_id", .string(commandID))])), status: .accepted)
            }
        }

        AgentBundleRoutes.register(in: &router, context: context)
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

extension HTTPResponse {
    /// Starts an asynchronous store write and answers once it has committed: `respond` builds
    /// the response from its value; store errors become 404/403, anything else a 500.
    static func committed<T: Sendable>(
        _ start: @escaping @Sendable (@escaping @Sendable (Result<T, any Error>) -> Void) -> Void,
        respond: @escaping @Sendable (T) throws -> HTTPResponse
    ) -> HTTPResponse {
        .deferred { promise in
            start { result in
                do {
                    promise.succeed(try respond(result.get()))
                } catch AgentStoreError.notFound {
                    promise.fail(HTTPError.notFound("agent not found"))
                } catch AgentStoreError.forbidden {
                    promise.fail(HTTPError.forbidden("this token belongs to another agent (or the name is another agent's)"))
                } catch AgentStoreError.unknownWork(let field, let value) {
                    promise.fail(HTTPError.notFound("\(field) '\(value)' is not a quick test or command of this agent"))
                } catch AgentStoreError.nameIsAnID {
                    promise.fail(HTTPError.badRequest("'name' is another agent's id"))
                } catch AgentStoreError.tooManyEngines {
                    promise.fail(HTTPError.badRequest("'engines': an agent keeps at most \(AgentHeartbeat.maxEngines) engines"))
                } catch {
                    promise.fail(error)
                }
            }
        }
    }
}
