import KittHTTP
import KittJSON
import KittStore

/// Campaigns (SPEC §5): every model × engine × benchmark of a config, run on one agent by
/// the `CampaignRunner`. The routes parse and render; `CampaignsService` does the rest off
/// the event loop.
enum CampaignRoutes {
    static func register(in router: inout Router, context: APIContext, services: Services) {
        let campaigns = services.campaigns
        let base = "/api/v1/campaigns"

        // Body: `{name, description?, agent_id? (id or name), config?}` → 201 `{"id", "status": "draft"}`.
        router.post(base) { request in
            try context.auth.requireAdmin(request)
            let body = try request.jsonObject()
            let name = try body.requiredString("name")
            let description = try body.optionalString("description") ?? ""
            let agentIDOrName = try body.optionalString("agent_id")
            let config = try CampaignConfig.validate(try body.optionalObject("config") ?? JSONObject())
            return .committed({
                campaigns.create(
                    name: name, description: description, agentIDOrName: agentIDOrName, config: config, completion: $0)
            }) { campaign in
                .json(
                    .object(JSONObject([("id", .string(campaign.id)), ("status", .string(campaign.status.rawValue))])),
                    status: .created)
            }
        }

        router.get(base) { request in
            let page = try Page(from: request)
            let status = request.queryValue("status").map(CampaignStatus.init(rawValue:))
            return .committed({ campaigns.list(status: status, limit: page.size, offset: page.offset, completion: $0) }) {
                found in
                .json(page.envelope(items: found.items.map { $0.json(includeConfig: false) }, total: found.total))
            }
        }

        router.get(base + "/:id") { request in
            .committed({ campaigns.get(id: request.parameter("id"), completion: $0) }) { campaign in
                .json(campaign.json(includeConfig: true))
            }
        }

        router.delete(base + "/:id") { request in
            try context.auth.requireAdmin(request)
            return .committed({ campaigns.delete(id: request.parameter("id"), completion: $0) }) { deleted in
                guard deleted else { throw HTTPError.notFound("campaign not found") }
                return .json(["deleted": true])
            }
        }

        router.post(base + "/:id/launch") { request in
            try context.auth.requireAdmin(request)
            return .committed({ campaigns.launch(id: request.parameter("id"), completion: $0) }) {
                .json(["status": "queued"], status: .accepted)
            }
        }

        router.post(base + "/:id/cancel") { request in
            try context.auth.requireAdmin(request)
            return .committed({ campaigns.cancel(id: request.parameter("id"), completion: $0) }) {
                .json(["status": "cancelled"])
            }
        }

        // Body: the config itself, or `{"config": {...}, "agent_id"?: id or name}` → `{"updated": true}`.
        router.put(base + "/:id/config") { request in
            try context.auth.requireAdmin(request)
            let body = try request.jsonObject()
            let wrapped = try body.optionalObject("config")
            let config = try CampaignConfig.validate(wrapped ?? body)
            let agentIDOrName = wrapped == nil ? nil : try body.optionalString("agent_id")
            return .committed({
                campaigns.updateConfig(
                    id: request.parameter("id"), config: config, agentIDOrName: agentIDOrName, completion: $0)
            }) { .json(["updated": true]) }
        }

        router.get(base + "/:id/logs") { request in
            .committed({ campaigns.logs(id: request.parameter("id"), completion: $0) }) { lines in
                guard let lines else { throw HTTPError.notFound("campaign not found") }
                return .json(["lines": .array(lines.map(\.json))])
            }
        }
    }
}
