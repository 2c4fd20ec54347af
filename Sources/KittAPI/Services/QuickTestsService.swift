import KittHTTP
import KittJSON
import KittStore

/// Quick tests (SPEC §5) behind the routes: create, read, logs and the one path every status
/// change takes (the status endpoint, an agent's results report, the runner's timeout sweep):
/// persist, publish `status` once per real change, and wake the campaign runner so a
/// campaign advances without polling. Store work runs off the event loop; answers come
/// through completions.
struct QuickTestsService: Sendable {
    /// Statuses an agent (or an admin) may set; the server itself may also set `cancelled`.
    static let reportableStatuses: Set<QuickTestStatus> = [.running, .completed, .failed]

    /// What `POST /quicktest` asks for (fields as the body names them).
    struct Request: Sendable {
        var agentIDOrName: String
        var modelPath: String
        var engineName: String
        var benchmarkName: String?
        var suiteName: String?
        var engineMode: String?
        var profileID: String?
        /// Skip the model format check.
        var force = false
    }

    let store: any DataStore
    let events: EventBus
    let runner: CampaignRunner
    let catalog: EngineCatalog

    init(context: APIContext, runner: CampaignRunner, catalog: EngineCatalog) {
        self.store = context.store
        self.events = context.events
        self.runner = runner
        self.catalog = catalog
    }

    /// Resolves the agent, checks the model's format against the engine (unless forced: it
    /// looks at the disk, so off the loop too), stores the test and its command, publishes `status`.
    func create(_ request: Request, completion: @escaping Completion<QuickTest>) {
        store.perform({ [self] in
            let agent = try AgentLookup.resolve(request.agentIDOrName, store)
            if !request.force,
                let problem = catalog.formatProblem(
                    engine: request.engineName, formats: ModelFormat.detect(request.modelPath))
            {
                throw HTTPError.badRequest(problem)
            }
            var new = NewQuickTest(
                agentID: agent.id, agentName: agent.name, modelPath: request.modelPath, engineName: request.engineName)
            if let name = request.benchmarkName, !name.isEmpty { new.benchmarkName = name }
            if let name = request.suiteName, !name.isEmpty { new.suiteName = name }
            if let mode = request.engineMode, !mode.isEmpty { new.engineMode = mode }
            new.profileID = request.profileID
            let test = try store.quickTests.create(new)
            QuickTestsService.publishStatus(test, events: events)
            return test
        }, completion: completion)
    }

    func list(
        status: QuickTestStatus?, agentName: String?, campaignID: String?, limit: Int, offset: Int,
        completion: @escaping Completion<(items: [QuickTest], total: Int)>
    ) {
        store.perform({ [store] in
            try store.quickTests.list(
                status: status, agentName: agentName, campaignID: campaignID, limit: limit, offset: offset)
        }, completion: completion)
    }

    func get(id: String, completion: @escaping Completion<QuickTest?>) {
        store.perform({ [store] in try store.quickTests.get(id: id) }, completion: completion)
    }

    /// The test's log lines in order; nil when there is no such test.
    func logs(testID: String, completion: @escaping Completion<[LogLine]?>) {
        store.perform({ [store] in try store.quickTests.logs(testID: testID) }, completion: completion)
    }

    /// Appends a line (group commit) and publishes `log` to the test and its agent. False when
    /// there is no such test — or, with `agentID` (an agent's token), it is another agent's.
    func appendLog(testID: String, line: String, agentID: String?, completion: @escaping Completion<Bool>) {
        let events = self.events
        store.quickTests.appendLogAsync(testID: testID, line: line, agentID: agentID, limit: .standard) { result in
            completion(result.map { owner in
                guard let owner else { return false }
                events.publish(
                    "log", sources: [testID, owner],
                    data: .object(JSONObject([("line", .string(line)), ("test_id", .string(testID))])))
                return true
            })
        }
    }

    /// `setStatusNow` on the store's workers.
    func setStatus(
        testID: String, status: QuickTestStatus, error: String?, agentID: String? = nil,
        completion: @escaping Completion<Bool>
    ) {
        store.perform({ [self] in try setStatusNow(testID: testID, status: status, error: error, agentID: agentID) },
            completion: completion)
    }

    /// Sets the status of `testID` (`running` | `completed` | `failed`, or `cancelled` from the
    /// server itself). Publishes `status` only when the status really changed (one state
    /// change, one event: SPEC §7.1) and wakes the test's campaign once it is finished.
    /// False when there is no such test — or, with `agentID`, when it is another agent's:
    /// then nothing changes and nothing is published. Throws a 400 for another status.
    /// Synchronous: only for callers already off the event loop (workers, the runner's queue).
    func setStatusNow(testID: String, status: QuickTestStatus, error: String?, agentID: String? = nil) throws -> Bool {
        guard QuickTestsService.reportableStatuses.contains(status) || status == .cancelled else {
            throw HTTPError.badRequest("'status' must be one of running, completed, failed; got '\(status.rawValue)'")
        }
        guard let transition = try store.quickTests.transition(id: testID, to: status, error: error, agentID: agentID)
        else { return false }
        let test = transition.test
        if transition.changed { QuickTestsService.publishStatus(test, events: events) }
        if test.isFinished, let campaignID = test.campaignID { runner.testFinished(campaignID: campaignID) }
        return true
    }

    /// The agents `agentIDOrName` names (404 when none), or every agent.
    func agents(_ agentIDOrName: String?, completion: @escaping Completion<[AgentSummary]>) {
        store.perform({ [store] in
            if let agentIDOrName { return [try AgentLookup.resolve(agentIDOrName, store)] }
            return try store.quickTests.agents()
        }, completion: completion)
    }

    func engineProfiles(engine: String?, completion: @escaping Completion<[EngineProfile]>) {
        store.perform({ [store] in try store.engineProfiles.list(engine: engine) }, completion: completion)
    }

    // MARK: - Events

    /// `status` `{status, test_id, error?}` for the test, its agent and its campaign.
    static func publishStatus(_ test: QuickTest, events: EventBus) {
        var data = JSONObject([("status", .string(test.status.rawValue)), ("test_id", .string(test.id))])
        if let error = test.error { data["error"] = .string(error) }
        var sources = [test.id, test.agentID]
        if let campaignID = test.campaignID { sources.append(campaignID) }
        events.publish("status", sources: sources, data: .object(data))
    }
}
