import KittHTTP
import KittJSON
import KittStore

/// Campaigns (SPEC §5) behind the routes: create, read, edit a draft's config, launch,
/// cancel and delete. Each write validates, persists, publishes its events and — for a
/// launch — wakes the campaign runner it was handed. Store work runs on the store's
/// workers; answers come through completions. Rule violations are thrown as HTTP errors
/// (400/404) for the route to answer as they are.
struct CampaignsService: Sendable {
    let store: any DataStore
    let events: EventBus
    let runner: CampaignRunner

    init(context: APIContext, runner: CampaignRunner) {
        self.store = context.store
        self.events = context.events
        self.runner = runner
    }

    /// A draft; `agentIDOrName` must name an existing agent. Publishes `campaign_created`.
    func create(
        name: String, description: String, agentIDOrName: String?, config: CampaignConfig,
        completion: @escaping Completion<Campaign>
    ) {
        store.perform({ [store, events] in
            let agentID = try agentIDOrName.map { try AgentLookup.resolve($0, store).id }
            let campaign = try store.campaigns.create(
                name: name, description: description, agentID: agentID, config: config.storedText)
            CampaignEvents.publish(
                events, "campaign_created", campaign: campaign,
                data: JSONObject([("campaign_id", .string(campaign.id)), ("name", .string(campaign.name))]))
            return campaign
        }, completion: completion)
    }

    func list(
        status: CampaignStatus?, limit: Int, offset: Int,
        completion: @escaping Completion<(items: [Campaign], total: Int)>
    ) {
        store.perform(
            { [store] in try store.campaigns.list(status: status, limit: limit, offset: offset) },
            completion: completion)
    }

    /// The campaign; 404 when there is none.
    func get(id: String, completion: @escaping Completion<Campaign>) {
        store.perform({ [store] in try CampaignsService.existing(id, store) }, completion: completion)
    }

    /// The campaign's log lines; nil when there is no such campaign.
    func logs(id: String, completion: @escaping Completion<[LogLine]?>) {
        store.perform({ [store] in try store.campaigns.logs(campaignID: id) }, completion: completion)
    }

    /// Deletes it (a still-queued test of it is cancelled, and says so). False when there is none.
    func delete(id: String, completion: @escaping Completion<Bool>) {
        store.perform({ [store, events] in
            guard let stop = try store.campaigns.delete(id: id) else { return false }
            if let test = stop.cancelledTest { QuickTestsService.publishStatus(test, events: events) }
            return true
        }, completion: completion)
    }

    /// Replaces a draft's config (and its agent, when named). 404 none, 400 not a draft.
    func updateConfig(
        id: String, config: CampaignConfig, agentIDOrName: String?, completion: @escaping Completion<Void>
    ) {
        store.perform({ [store] in
            let agentID = try agentIDOrName.map { try AgentLookup.resolve($0, store).id }
            switch try store.campaigns.updateConfig(id: id, config: config.storedText, agentID: agentID) {
            case .notFound: throw HTTPError.notFound("campaign not found")
            case .notDraft(let status):
                throw HTTPError.badRequest("campaign is \(status); only a draft's config can be changed")
            case .updated: return
            }
        }, completion: completion)
    }

    /// draft|failed → queued (SPEC §5): needs an existing agent and at least one run. Publishes
    /// `status` and wakes the runner.
    func launch(id: String, completion: @escaping Completion<Void>) {
        store.perform({ [self] in try launchNow(id) }, completion: completion)
    }

    private func launchNow(_ id: String) throws {
        let current = try CampaignsService.existing(id, store)
        guard current.status == .draft || current.status == .failed else {
            throw HTTPError.badRequest("campaign is \(current.status); only draft or failed campaigns can be launched")
        }
        guard let agentID = current.agentID, !agentID.isEmpty else {
            throw HTTPError.badRequest("campaign has no agent_id")
        }
        guard try store.quickTests.agent(idOrName: agentID) != nil else {
            throw HTTPError.badRequest("campaign's agent '\(agentID)' no longer exists")
        }
        guard let config = CampaignConfig.decode(stored: current.config), !config.runs.isEmpty else {
            throw HTTPError.badRequest("campaign config needs at least one model, engine and benchmark")
        }
        guard let (queued, changed) = try store.campaigns.markQueued(id: current.id) else {
            throw HTTPError.notFound("campaign not found")
        }
        guard changed else {
            throw HTTPError.badRequest("campaign is \(queued.status); only draft or failed campaigns can be launched")
        }
        CampaignEvents.publish(
            events, "status", campaign: queued,
            data: JSONObject([("status", "queued"), ("campaign_id", .string(queued.id))]))
        runner.wake(campaignID: queued.id)
    }

    /// queued|running → cancelled: its queued test is cancelled too; publishes `log` and `status`.
    /// 404 none, 400 not active.
    func cancel(id: String, completion: @escaping Completion<Void>) {
        store.perform({ [store, events] in
            let line = "Campaign cancelled"
            switch try store.campaigns.cancel(id: id, line: line) {
            case .notFound:
                throw HTTPError.notFound("campaign not found")
            case .notActive(let status):
                throw HTTPError.badRequest("campaign is \(status); only queued or running campaigns can be cancelled")
            case .cancelled(let stop):
                if let test = stop.cancelledTest { QuickTestsService.publishStatus(test, events: events) }
                CampaignEvents.publish(
                    events, "log", campaign: stop.campaign,
                    data: JSONObject([("line", .string(line)), ("campaign_id", .string(stop.campaign.id))]))
                CampaignEvents.publish(
                    events, "status", campaign: stop.campaign,
                    data: JSONObject([("status", "cancelled"), ("campaign_id", .string(stop.campaign.id))]))
            }
        }, completion: completion)
    }

    private static func existing(_ id: String, _ store: any DataStore) throws -> Campaign {
        guard let campaign = try store.campaigns.get(id: id) else { throw HTTPError.notFound("campaign not found") }
        return campaign
    }
}

/// Campaign events go to the campaign's stream and its agent's.
enum CampaignEvents {
    static func publish(_ events: EventBus, _ type: String, campaign: Campaign, data: JSONObject) {
        var sources = [campaign.id]
        if let agentID = campaign.agentID { sources.append(agentID) }
        events.publish(type, sources: sources, data: .object(data))
    }
}
