import KittHTTP
import KittJSON
import KittStore

/// Agents (SPEC §5, §7) behind the routes: register, heartbeat, read, edit, delete, settings,
/// result reports, cleanup commands and token rotation. Writes agents make often go through
/// the store's group commit (`writeAsync`), so a completion means durable; everything else
/// runs on the store's workers. Events are published here, once the write has committed;
/// a report that moves a quick test along goes through `QuickTestsService` (and so wakes
/// the campaign runner).
struct AgentsService: Sendable {
    let store: any DataStore
    let events: EventBus
    let quickTests: QuickTestsService
    /// Heartbeats older than this many seconds show an agent `offline`.
    let offlineAfter: Double
    /// How long a nameless install.sh token may wait to register.
    let installTokenExpiry: Double

    init(context: APIContext, quickTests: QuickTestsService) {
        self.store = context.store
        self.events = context.events
        self.quickTests = quickTests
        self.offlineAfter = context.settings.agentOfflineAfterSeconds
        self.installTokenExpiry = context.settings.provisionExpirySeconds
    }

    /// Registers (or re-registers) the agent and publishes `agent_status` online. `caller`
    /// decides which agent a token may register as (see `AgentRepository.register`).
    func register(
        _ registration: AgentRegistration, caller: AgentCaller, completion: @escaping Completion<RegisterOutcome>
    ) {
        var installTokenHash: String?
        if case .installToken(let hash) = caller { installTokenHash = hash }
        let events = self.events
        store.agents.register(
            registration, tokenAgentID: caller.scopedAgentID, installTokenHash: installTokenHash,
            installTokenCutoff: OfflineRule.cutoff(installTokenExpiry)
        ) { result in
            if case .success(let outcome) = result {
                AgentsService.publishStatus(events, id: outcome.agentID, name: outcome.name, status: .online)
            }
            completion(result)
        }
    }

    /// Records the beat and hands out at most one command; publishes `agent_status` when the
    /// shown status changed and `status` dispatched for the quick test handed out.
    func heartbeat(idOrName: String, _ beat: AgentHeartbeat, completion: @escaping Completion<HeartbeatOutcome>) {
        let events = self.events
        store.agents.heartbeat(idOrName: idOrName, beat, offlineCutoff: OfflineRule.cutoff(offlineAfter)) { result in
            if case .success(let outcome) = result {
                if outcome.statusChanged {
                    AgentsService.publishStatus(events, id: outcome.agentID, name: outcome.name, status: outcome.status)
                }
                // The heartbeat handed out the test's command: it is `dispatched` now (SPEC §7.1).
                if let test = outcome.dispatchedTest { QuickTestsService.publishStatus(test, events: events) }
            }
            completion(result)
        }
    }

    /// A page of agents (by name) with their shown status.
    func list(limit: Int, offset: Int, completion: @escaping Completion<(total: Int, items: [Agent])>) {
        let cutoff = OfflineRule.cutoff(offlineAfter)
        store.perform({ [store] in try store.agents.list(limit: limit, offset: offset, offlineCutoff: cutoff) },
            completion: completion)
    }

    func get(idOrName: String, completion: @escaping Completion<Agent?>) {
        let cutoff = OfflineRule.cutoff(offlineAfter)
        store.perform(
            { [store] in try store.agents.get(idOrName: idOrName, offlineCutoff: cutoff) }, completion: completion)
    }

    /// Sets notes and/or tags (at least one must be given: else 400). False: no such agent.
    func update(idOrName: String, notes: String?, tags: [String]?, completion: @escaping Completion<Bool>) {
        guard notes != nil || tags != nil else {
            return completion(.failure(HTTPError.badRequest("nothing to update: give 'notes' or 'tags'")))
        }
        store.perform({ [store] in try store.agents.update(idOrName: idOrName, notes: notes, tags: tags) },
            completion: completion)
    }

    func delete(idOrName: String, completion: @escaping Completion<Bool>) {
        store.perform({ [store] in try store.agents.delete(idOrName: idOrName) }, completion: completion)
    }

    /// The agent's settings; nil when there is no such agent.
    func settings(idOrName: String, completion: @escaping Completion<[(key: String, value: String)]?>) {
        store.perform({ [store] in try store.agents.settings(idOrName: idOrName) }, completion: completion)
    }

    func updateSettings(
        idOrName: String, _ values: [(key: String, value: String)], completion: @escaping Completion<Bool>
    ) {
        store.perform(
            { [store] in try store.agents.updateSettings(idOrName: idOrName, values) }, completion: completion)
    }

    /// Stores the report (group commit). A command with no quick test is published as its own
    /// `status`; a report that implies a quick test status moves that test along (a write of
    /// its own, on the store's workers) before the completion. With an agent's own token
    /// (`caller` scoped), the test and command named must be its own, else 404 and nothing is
    /// stored, published or woken.
    func report(
        agentIDOrName: String, _ report: AgentRequests.Report, caller: AgentCaller,
        completion: @escaping Completion<ReportOutcome>
    ) {
        let owner = caller.scopedAgentID
        let (events, store, quickTests) = (self.events, self.store, self.quickTests)
        store.agents.report(
            agentIDOrName: agentIDOrName, document: report.document, commandID: report.commandID,
            testID: report.testID, finished: report.finished, failed: report.testStatus == .failed,
            scoped: owner != nil
        ) { result in
            guard case .success(let outcome) = result else { return completion(result) }
            if let command = outcome.finishedCommand, outcome.testID == nil {
                CommandOutcome.publish(command, error: report.error, events: events)
            }
            guard let status = report.testStatus, let testID = outcome.testID else { return completion(result) }
            // Off the store's completion queue: the status change is a write of its own.
            store.perform({
                _ = try quickTests.setStatusNow(testID: testID, status: status, error: report.error, agentID: owner)
                return outcome
            }, completion: completion)
        }
    }

    /// Queues a `cleanup_storage` command (optionally for one model path). Fails with
    /// `AgentStoreError.notFound` when there is no such agent.
    func cleanup(idOrName: String, modelPath: String?, completion: @escaping Completion<String>) {
        var payload = JSONObject()
        if let modelPath { payload["model_path"] = .string(modelPath) }
        let store = self.store
        queue("cleanup_storage", payload: .object(payload), completion: completion) {
            guard let agent = try store.agents.identity(idOrName: idOrName) else { throw AgentStoreError.notFound }
            return agent.id
        }
    }

    /// Queues an engine command (`engine_install`, ...) for the agent `idOrName`; a 404 naming
    /// it when there is none.
    func queueEngineCommand(
        agentIDOrName: String, type: String, payload: JSON, completion: @escaping Completion<String>
    ) {
        let store = self.store
        queue(type, payload: payload, completion: completion) { try AgentLookup.resolve(agentIDOrName, store).id }
    }

    /// Finds the agent (`agentID`) and queues the command, on the workers; the next heartbeat
    /// hands it out. Completes with the command id once committed.
    private func queue(
        _ type: String, payload: JSON, completion: @escaping Completion<String>,
        agentID: @escaping @Sendable () throws -> String
    ) {
        let store = self.store
        store.perform({
            try store.agents.queueCommand(agentID: try agentID(), type: type, testID: nil, payload: payload)
        }, completion: completion)
    }

    /// Replaces the agent's token hash (group commit): the old token stops working once this
    /// completes. False when there is no such agent.
    func rotateToken(idOrName: String, tokenHash: String, completion: @escaping Completion<Bool>) {
        store.agents.rotateToken(idOrName: idOrName, tokenHash: tokenHash) { completion($0.map { $0 != nil }) }
    }

    /// What `install.sh` asks for: a token for the agent `name` (nil: a nameless install, the
    /// agent registers under its host name), and whether the caller holds the admin token.
    struct Provisioning: Sendable {
        var name: String?
        var port: Int
        var isAdmin: Bool
    }

    /// Provisioning would rotate the token of the existing agent `name` without the admin token.
    struct RotationNeedsAdmin: Error {
        let name: String
    }

    /// install.sh (SPEC §7.2): without the admin token, an existing agent's token is never
    /// rotated (anyone who can reach the URL could lock that agent out and act as it), and at
    /// most `InstallQuery.maxUnregistered` agents may wait to register (503). Then stores the
    /// hash of the script's token — for the named agent (created `provisioned` if new) or, with
    /// no name, as a pending install token. `tokenHash` nil (HEAD): the checks only.
    func provision(_ asked: Provisioning, tokenHash: String?, completion: @escaping Completion<Void>) {
        let expiry = installTokenExpiry
        store.perform({ [store] in
            if let name = asked.name, !asked.isAdmin, try store.agents.identity(name: name) != nil {
                throw RotationNeedsAdmin(name: name)
            }
            if !asked.isAdmin, try store.agents.unregisteredCount() >= InstallQuery.maxUnregistered {
                throw HTTPError.serviceUnavailable(
                    "\(InstallQuery.maxUnregistered) agents are waiting to register; try again when they have "
                        + "(or expire after \(Int(expiry)) s), or use the admin token")
            }
            guard let tokenHash else { return }
            guard let name = asked.name else {
                // No agent row yet: the token waits (hashed, expiring) until the agent registers
                // under its host name and becomes that agent's token.
                return try store.agents.recordInstallToken(hash: tokenHash, port: asked.port)
            }
            do {
                _ = try store.agents.provisionToken(
                    name: name, port: asked.port, tokenHash: tokenHash, rotate: asked.isAdmin)
            } catch AgentStoreError.nameIsAnID {
                throw HTTPError.badRequest("'name' is another agent's id")
            } catch AgentStoreError.forbidden {
                throw RotationNeedsAdmin(name: name)  // created by a concurrent fetch since the check
            }
        }, completion: completion)
    }

    /// `agent_status` `{agent_id, name, status}` on the agent's stream.
    static func publishStatus(_ events: EventBus, id: String, name: String, status: AgentStatus) {
        events.publish(
            "agent_status", sources: [id],
            data: .object(
                JSONObject([("agent_id", .string(id)), ("name", .string(name)), ("status", .string(status.rawValue))])))
    }
}
