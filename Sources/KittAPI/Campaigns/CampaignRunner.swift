import Dispatch
import KittJSON
import KittStore
import Synchronization

/// Runs launched campaigns inside the server, event-driven on one private serial queue:
/// a step queues the next quick test and returns; when `QuickTestsService` reports that test
/// completed or failed, the next step runs. No thread waits and nothing polls; a single timer
/// sweeps for quick tests that exceeded `quickTestTimeoutSeconds`.
///
/// All progress (next_index, current_test_id, counters, log) is in the store, written in one
/// transaction per step, so `start()` after a restart resumes every queued/running campaign
/// where it was: an in-flight test still queued/running is awaited, a finished one is counted
/// once, and finished runs are never queued again.
///
/// Built once by `Services` (with the router) and handed to the services that wake it; the
/// server (`BackgroundServices`) or a test starts and stops it.
public final class CampaignRunner: Sendable {
    private let context: APIContext
    private let catalog: EngineCatalog
    private let queue = DispatchQueue(label: "kitt.campaigns")
    private let state = Mutex(State())

    private struct State {
        var running = false
        var sweep: SweepTimer?
    }

    init(context: APIContext, catalog: EngineCatalog) {
        self.context = context
        self.catalog = catalog
    }

    /// The quick tests service, to fail timed-out tests the one way every status change goes
    /// (made on demand: a stored one would hold this runner in a cycle).
    private var quickTests: QuickTestsService { QuickTestsService(context: context, runner: self, catalog: catalog) }

    /// Resumes every queued/running campaign and starts the timeout sweep. Until then (and
    /// after `stop`) wake-ups are ignored: the next `start` picks the campaigns up from the store.
    public func start() {
        let alreadyRunning = state.withLock { state -> Bool in
            defer { state.running = true }
            return state.running
        }
        guard !alreadyRunning else { return }
        queue.async { self.resumeAll() }

        let timeout = context.settings.quickTestTimeoutSeconds
        let interval = min(max(timeout / 4, 0.02), 30)
        let timer = DispatchSource.makeTimerSource(queue: queue)
        timer.schedule(deadline: .now() + interval, repeating: interval, leeway: .milliseconds(Int(interval * 100)))
        timer.setEventHandler { [weak self] in self?.sweepTimeouts() }
        timer.resume()
        state.withLock { $0.sweep = SweepTimer(source: timer) }
    }

    /// Stops reacting (campaigns stay as stored, to be resumed by the next `start`). Waits for
    /// a step in progress, so the store can be closed right after.
    public func stop() {
        let timer = state.withLock { state -> SweepTimer? in
            state.running = false
            defer { state.sweep = nil }
            return state.sweep
        }
        timer?.source.cancel()
        queue.sync {}
    }

    private var isRunning: Bool { state.withLock { $0.running } }

    /// Returns once every step queued before the call has run (tests: a test status change
    /// has been acted on, so "nothing more was queued" is an observation, not a guess).
    func waitForQueuedSteps() { queue.sync {} }

    /// Looks at every queued/running campaign again (a step on one that is waiting for its
    /// quick test changes nothing). With several instances only the one holding the campaign
    /// lease runs campaigns; it calls this periodically, since launches and test results
    /// handled by the other instances wake only their own, stopped, runners.
    public func reconcile() {
        queue.async { self.resumeAll() }
    }

    /// A campaign was launched: run its first step.
    func wake(campaignID: String) {
        queue.async { self.advance(campaignID) }
    }

    /// A campaign's quick test reached completed/failed: take the next step.
    func testFinished(campaignID: String) {
        queue.async { self.advance(campaignID) }
    }

    // MARK: - Steps (on `queue`)

    private func resumeAll() {
        guard isRunning else { return }
        do {
            for campaign in try context.store.campaigns.active() { advance(campaign.id) }
        } catch {
            // The store is unavailable (closing); the next start resumes.
        }
    }

    private func advance(_ campaignID: String) {
        dispatchPrecondition(condition: .onQueue(queue))
        guard isRunning else { return }
        do {
            try step(campaignID)
        } catch {
            _ = try? finish(campaignID, agentID: nil, status: .failed, error: "internal error: \(error)")
        }
    }

    private func step(_ campaignID: String) throws {
        let campaigns = context.store.campaigns
        guard var campaign = try campaigns.get(id: campaignID), campaign.isActive else { return }
        let agentID = campaign.agentID
        guard let config = CampaignConfig.decode(stored: campaign.config) else {
            try finish(campaign, status: .failed, error: "the campaign config is invalid")
            return
        }
        let runs = config.runs
        guard let agentID, let agent = try context.store.quickTests.agent(idOrName: agentID) else {
            try finish(campaign, status: .failed, error: "nothing can run: the campaign's agent does not exist")
            return
        }

        if campaign.status == .queued {
            guard !runs.isEmpty else {
                try finish(campaign, status: .failed, error: "nothing can run: no model × engine × benchmark")
                return
            }
            let problems = runs.compactMap { problem(for: $0, agent: agent) }
            if problems.count == runs.count {
                try finish(campaign, status: .failed, error: "nothing can run: \(problems[0])")
                return
            }
            let line = "Campaign started: \(runs.count) runs on agent \(agent.name)"
            guard let started = try campaigns.markRunning(id: campaignID, totalRuns: runs.count, line: line) else {
                return
            }
            campaign = started
            publishStatus(campaign)
            publishLog(campaign, line)
        }

        let total = runs.count
        while true {
            if let testID = campaign.currentTestID {
                let test = try context.store.quickTests.get(id: testID)
                if let test, !test.isFinished { return }  // still queued/running: its status change wakes us
                let number = campaign.nextIndex + 1
                let succeeded = test?.status == .completed
                let line =
                    succeeded
                    ? "[\(number)/\(total)] completed"
                    : "[\(number)/\(total)] failed: \(test?.error ?? (test == nil ? "quick test missing" : test?.status.rawValue ?? "failed"))"
                guard let updated = try campaigns.finishRun(
                    campaignID: campaignID, testID: testID, succeeded: succeeded, line: line)
                else { return }
                campaign = updated
                publishLog(campaign, line)
            }

            if campaign.nextIndex >= total {
                let line =
                    "Campaign completed: \(campaign.succeeded) succeeded, \(campaign.failed) failed of \(total) runs"
                try finish(campaign, status: .completed, error: nil, line: line)
                return
            }

            let number = campaign.nextIndex + 1
            let run = runs[campaign.nextIndex]
            if let problem = problem(for: run, agent: agent) {
                let line = "[\(number)/\(total)] Skipped: \(run.label): \(problem)"
                guard let updated = try campaigns.skipRun(campaignID: campaignID, line: line) else { return }
                campaign = updated
                publishLog(campaign, line)
                continue
            }

            var new = NewQuickTest(
                agentID: agent.id, agentName: agent.name, modelPath: run.modelPath, engineName: run.engine.name)
            new.benchmarkName = run.benchmark
            new.suiteName = config.suiteName
            if let mode = run.engine.mode, !mode.isEmpty { new.engineMode = mode }
            new.profileID = run.engine.profileID
            let line = "[\(number)/\(total)] Queuing: \(run.label)"
            guard let test = try campaigns.queueRun(campaignID: campaignID, test: new, line: line) else { return }
            publishLog(campaign, line)
            QuickTestsService.publishStatus(test, events: context.events)
            return
        }
    }

    /// Why a run cannot go to this agent (engine platform, model format), nil when it can.
    private func problem(for run: CampaignConfig.Run, agent: AgentSummary) -> String? {
        if catalog.engine(run.engine.name) != nil,
            let problem = catalog.platformProblem(engine: run.engine.name, cpuArch: agent.cpuArch)
        {
            return problem
        }
        return catalog.formatProblem(engine: run.engine.name, formats: ModelFormat.detect(run.modelPath))
            .map { reason in reason.split(separator: ";").first.map(String.init) ?? reason }
    }

    private func finish(_ campaign: Campaign, status: CampaignStatus, error: String?, line: String? = nil) throws {
        try finish(campaign.id, agentID: campaign.agentID, status: status, error: error, line: line)
    }

    @discardableResult
    private func finish(_ campaignID: String, agentID: String?, status: CampaignStatus, error: String?, line: String? = nil)
        throws -> Bool
    {
        let text = line ?? "Campaign \(status)\(error.map { ": \($0)" } ?? "")"
        guard let done = try context.store.campaigns.finish(id: campaignID, status: status, error: error, line: text)
        else { return false }
        publishLog(done, text)
        publishStatus(done)
        return true
    }

    // MARK: - Timeouts (on `queue`)

    private func sweepTimeouts() {
        guard isRunning else { return }
        let timeout = context.settings.quickTestTimeoutSeconds
        guard let now = Timestamp.epochSeconds(Timestamp.now()) else { return }
        let cutoffTime = now - timeout
        let seconds = Int(cutoffTime.rounded(.down))
        let cutoff = Timestamp.format(seconds: seconds, microseconds: Int((cutoffTime - Double(seconds)) * 1_000_000))
        guard let stale = try? context.store.quickTests.unfinished(startedBefore: cutoff) else { return }
        let quickTests = self.quickTests
        for test in stale {
            _ = try? quickTests.setStatusNow(testID: test.id, status: .failed, error: "timed out")
        }
    }

    // MARK: - Events

    private func publishStatus(_ campaign: Campaign) {
        var data = JSONObject([("status", .string(campaign.status.rawValue)), ("campaign_id", .string(campaign.id))])
        if let error = campaign.error { data["error"] = .string(error) }
        CampaignEvents.publish(context.events, "status", campaign: campaign, data: data)
    }

    private func publishLog(_ campaign: Campaign, _ line: String) {
        CampaignEvents.publish(
            context.events, "log", campaign: campaign,
            data: JSONObject([("line", .string(line)), ("campaign_id", .string(campaign.id))]))
    }
}

/// DispatchSource is thread-safe; Swift's Dispatch overlay just does not declare it Sendable.
private struct SweepTimer: @unchecked Sendable {
    let source: any DispatchSourceTimer
}
