import KittHTTP
import KittJSON
import KittStore

/// Campaigns (SPEC §5): every model × engine × benchmark of a config, run on one agent by
/// the `CampaignRunner`.
enum CampaignRoutes {
    static func register(in router: inout Router, context: APIContext) {
        let base = "/api/v1/campaigns"

        // Body: `{name, description?, agent_id? (id or name), config?}` → 201 `{"id", "status": "draft"}`.
        router.post(base) { request in
            try context.auth.requireAdmin(request)
            let body = try request.jsonObject()
            let name = try body.requiredString("name")
            let description = try body.optionalString("description") ?? ""
            let agentIDOrName = try body.optionalString("agent_id")
            let config = try CampaignConfig.validate(try body.optionalObject("config") ?? JSONObject())
            return StoreWork.deferred(context.store) {
                let agentID = try agentIDOrName.map { try AgentLookup.resolve($0, context).id }
                let campaign = try context.store.campaigns.create(
                    name: name, description: description, agentID: agentID, config: config.storedText)
                CampaignEvents.publish(
                    context, "campaign_created", campaign: campaign,
                    data: JSONObject([("campaign_id", .string(campaign.id)), ("name", .string(campaign.name))]))
                return .json(
                    .object(JSONObject([("id", .string(campaign.id)), ("status", .string(campaign.status))])),
                    status: .created)
            }
        }

        router.get(base) { request in
            let page = try Page(from: request)
            let status = request.queryValue("status")
            return StoreWork.deferred(context.store) {
                let (items, total) = try context.store.campaigns.list(status: status, limit: page.size, offset: page.offset)
                return .json(page.envelope(items: items.map { $0.json(includeConfig: false) }, total: total))
            }
        }

        router.get(base + "/:id") { request in
            let id = request.parameter("id")
            return StoreWork.deferred(context.store) { .json(try campaign(id, context).json(includeConfig: true)) }
        }

        router.delete(base + "/:id") { request in
            try context.auth.requireAdmin(request)
            let id = request.parameter("id")
            return StoreWork.deferred(context.store) {
                guard let stop = try context.store.campaigns.delete(id: id) else {
                    throw HTTPError.notFound("campaign not found")
                }
                if let test = stop.cancelledTest { QuickTestLifecycle.publishStatus(context: context, test: test) }
                return .json(["deleted": true])
            }
        }

        router.post(base + "/:id/launch") { request in
            try context.auth.requireAdmin(request)
            let id = request.parameter("id")
            return StoreWork.deferred(context.store) { try launch(id, context) }
        }

        router.post(base + "/:id/cancel") { request in
            try context.auth.requireAdmin(request)
            let id = request.parameter("id")
            return StoreWork.deferred(context.store) {
                switch try context.store.campaigns.cancel(id: id, line: "Campaign cancelled") {
                case .notFound:
                    throw HTTPError.notFound("campaign not found")
                case .notActive(let status):
                    throw HTTPError.badRequest("campaign is \(status); only queued or running campaigns can be cancelled")
                case .cancelled(let stop):
                    if let test = stop.cancelledTest { QuickTestLifecycle.publishStatus(context: context, test: test) }
                    CampaignEvents.publish(
                        context, "log", campaign: stop.campaign,
                        data: JSONObject([("line", "Campaign cancelled"), ("campaign_id", .string(stop.campaign.id))]))
                    CampaignEvents.publish(
                        context, "status", campaign: stop.campaign,
                        data: JSONObject([("status", "cancelled"), ("campaign_id", .string(stop.campaign.id))]))
                    return .json(["status": "cancelled"])
                }
            }
        }

        // Body: the config itself, or `{"config": {...}, "agent_id"?: id or name}` → `{"updated": true}`.
        router.put(base + "/:id/config") { request in
            try context.auth.requireAdmin(request)
            let body = try request.jsonObject()
            let wrapped = try body.optionalObject("config")
            let config = try CampaignConfig.validate(wrapped ?? body)
            let agentIDOrName = wrapped == nil ? nil : try body.optionalString("agent_id")
            let id = request.parameter("id")
            return StoreWork.deferred(context.store) {
                let agentID = try agentIDOrName.map { try AgentLookup.resolve($0, context).id }
                switch try context.store.campaigns.updateConfig(id: id, config: config.storedText, agentID: agentID) {
                case .notFound: throw HTTPError.notFound("campaign not found")
                case .notDraft(let status):
                    throw HTTPError.badRequest("campaign is \(status); only a draft's config can be changed")
                case .updated: return .json(["updated": true])
                }
            }
        }

        router.get(base + "/:id/logs") { request in
            let id = request.parameter("id")
            return StoreWork.deferred(context.store) {
                guard let lines = try context.store.campaigns.logs(campaignID: id) else {
                    throw HTTPError.notFound("campaign not found")
                }
                return .json(["lines": .array(lines.map(\.json))])
            }
        }
    }

    /// draft|failed → queued (SPEC §5): needs an agent and at least one run; wakes the runner.
    private static func launch(_ id: String, _ context: APIContext) throws -> HTTPResponse {
        let current = try campaign(id, context)
        guard current.status == "draft" || current.status == "failed" else {
            throw HTTPError.badRequest("campaign is \(current.status); only draft or failed campaigns can be launched")
        }
        guard let agentID = current.agentID, !agentID.isEmpty else {
            throw HTTPError.badRequest("campaign has no agent_id")
        }
        guard try context.store.quickTests.agent(idOrName: agentID) != nil else {
            throw HTTPError.badRequest("campaign's agent '\(agentID)' no longer exists")
        }
        guard let config = CampaignConfig.decode(stored: current.config), !config.runs.isEmpty else {
            throw HTTPError.badRequest("campaign config needs at least one model, engine and benchmark")
        }
        guard let (queued, changed) = try context.store.campaigns.markQueued(id: current.id) else {
            throw HTTPError.notFound("campaign not found")
        }
        guard changed else {
            throw HTTPError.badRequest("campaign is \(queued.status); only draft or failed campaigns can be launched")
        }
        CampaignEvents.publish(
            context, "status", campaign: queued,
            data: JSONObject([("status", "queued"), ("campaign_id", .string(queued.id))]))
        CampaignRunner.runner(for: context)?.wake(campaignID: queued.id)
        return .json(["status": "queued"], status: .accepted)
    }

    private static func campaign(_ id: String, _ context: APIContext) throws -> Campaign {
        guard let campaign = try context.store.campaigns.get(id: id) else {
            throw HTTPError.notFound("campaign not found")
        }
        return campaign
    }
}
