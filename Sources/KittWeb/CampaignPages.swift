import KittAPI
import KittHTTP
import KittJSON

/// `/campaigns` (list), `/campaigns/new` (the wizard), `/campaigns/<id>` (live progress,
/// per-run status, log, actions) and `/campaigns/<id>/edit` (a draft's config).
enum CampaignPages {
    static let statuses = ["draft", "queued", "running", "completed", "failed", "cancelled"]

    static func register(in router: inout Router, _ ui: WebUI) {
        let catalog = EngineCatalog.load(configDirectory: ui.context.settings.configDirectory)

        router.get("/campaigns") { request in
            ui.page(
                request, title: "Campaigns", section: .campaigns, live: ["status", "campaign_created"],
                reads: [.init(get: Query.api("/api/v1/campaigns", from: request, keeping: ["status", "page"],
                    extra: [("per_page", "50")]))]
            ) { _, answers in
                UI.pageHead("Campaigns") { el("a", .class("button"), .href("/campaigns/new")) { "New campaign" } }
                    + filters(request)
                    + el("div", .id("campaign-list"), Attribute("data-live-region", "")) {
                        list(answers[0])
                        UI.pager(answers[0].object, request: request)
                    }
            }
        }

        router.get("/campaigns/new") { request in
            ui.page(request, title: "New campaign", section: .campaigns, reads: ["/api/v1/agents?per_page=100"]) {
                viewer, answers in
                UI.signInNotice(viewer, doing: "save or launch a campaign")
                    + wizard(agents: answers[0].items, catalog: catalog, existing: nil)
            }
        }

        router.get("/campaigns/:id/edit") { request in
            let id = Query.segment(request.parameter("id"))
            return ui.page(
                request, title: "Edit campaign", section: .campaigns, detail: true,
                reads: [.init(get: "/api/v1/campaigns/\(id)"), "/api/v1/agents?per_page=100"]
            ) { _, answers in
                guard let campaign = answers[0].object else { return UI.failure(answers[0]) }
                return wizard(agents: answers[1].items, catalog: catalog, existing: campaign)
            }
        }

        router.get("/campaigns/:id") { request in
            let id = Query.segment(request.parameter("id"))
            return ui.page(
                request, title: "Campaign", section: .campaigns, detail: true, live: ["status", "log"],
                reads: [.init(get: "/api/v1/campaigns/\(id)"), .init(get: "/api/v1/campaigns/\(id)/logs")],
                then: { first in
                    // One page of this campaign's runs (newest first; `?page=` pages on) and the agent, for its name.
                    var more: [APIBridge.Read] = [
                        .init(get: Query.api("/api/v1/quicktest", from: request, keeping: ["page"],
                            extra: [("per_page", String(runsPerPage)), ("campaign_id", id)]))
                    ]
                    if let agent = first[0].object?["agent_id"]?.stringValue {
                        more.append(.init(get: "/api/v1/agents/" + Query.segment(agent)))
                    }
                    return more
                }
            ) { viewer, answers in
                detail(answers, viewer: viewer, request: request)
            }
        }
    }

    static func filters(_ request: HTTPRequest) -> HTML {
        el("form", .class("filters"), Attribute("method", "get"), Attribute("action", "/campaigns")) {
            UI.statusFilter(request, statuses: statuses)
            el("button", .type("submit"), .class("secondary")) { "Filter" }
        }
    }

    static func progress(_ campaign: JSONObject) -> HTML {
        let total = campaign["total_runs"]?.intValue ?? 0
        let done = (campaign["succeeded"]?.intValue ?? 0) + (campaign["failed"]?.intValue ?? 0)
        return el("div", .class("small")) {
            element("progress", [Attribute("max", String(max(total, 1))), .value(String(min(done, max(total, 1)))),
                Attribute("aria-label", "\(done) of \(total) runs")], HTML())
            el("span", .class("muted")) {
                "\(done) of \(total) runs · \(campaign["succeeded"]?.intValue ?? 0) succeeded · \(campaign["failed"]?.intValue ?? 0) failed"
            }
        }
    }

    /// The dashboard's running and queued campaigns.
    static func progressList(running: APIBridge.Answer, queued: APIBridge.Answer) -> HTML {
        if let _ = running.error { return UI.failure(running) }
        let campaigns = (running.items + queued.items).compactMap(\.objectValue)
        if campaigns.isEmpty {
            return UI.empty("No campaign is running. Create one to run many models × engines × benchmarks in a row.",
                action: ("/campaigns/new", "New campaign"))
        }
        return el("div", .class("grid")) {
            for campaign in campaigns {
                el("article", .class("card")) {
                    el("h3") {
                        el("a", .href("/campaigns/" + Query.segment(UI.string(campaign["id"])))) { UI.string(campaign["name"]) }
                        UI.status(campaign["status"]?.stringValue)
                    }
                    progress(campaign)
                }
            }
        }
    }

    static func list(_ answer: APIBridge.Answer) -> HTML {
        if let _ = answer.error { return UI.failure(answer) }
        let campaigns = answer.items.compactMap(\.objectValue)
        if campaigns.isEmpty {
            return UI.empty("No campaigns yet. The wizard builds one from models, engines and benchmarks.",
                action: ("/campaigns/new", "New campaign"))
        }
        return el("div", .class("table-wrap")) {
            el("table") {
                el("thead") {
                    el("tr") {
                        el("th") { "Name" }
                        el("th") { "Status" }
                        el("th") { "Progress" }
                        el("th", .class("hide-narrow")) { "Created" }
                    }
                }
                el("tbody") {
                    for campaign in campaigns {
                        el("tr") {
                            el("td") {
                                el("a", .class("wrap"), .href("/campaigns/" + Query.segment(UI.string(campaign["id"])))) {
                                    UI.string(campaign["name"])
                                }
                            }
                            el("td") { UI.status(campaign["status"]?.stringValue) }
                            el("td") { progress(campaign) }
                            el("td", .class("hide-narrow")) { UI.time(campaign["created_at"]?.stringValue) }
                        }
                    }
                }
            }
        }
    }

    // MARK: Wizard

    static func wizard(agents: [JSON], catalog: EngineCatalog, existing: JSONObject?) -> HTML {
        let config = existing?["config"]?.objectValue
        let models = (config?["models"]?.arrayValue ?? []).compactMap { $0["name"]?.stringValue }
        let engines = Set((config?["engines"]?.arrayValue ?? []).compactMap { $0["name"]?.stringValue })
        let benches = Set((config?["benchmarks"]?.arrayValue ?? []).compactMap(\.stringValue))
        let id = existing.map { UI.string($0["id"]) }
        var attributes: [Attribute] = [.class("stack panel"), .id("campaign-form"), Attribute("data-wizard", "")]
        if let id {
            attributes += [Attribute("data-api", "/ui/api/v1/campaigns/\(Query.segment(id))/config"),
                Attribute("data-method", "PUT"), Attribute("data-unwrap", "config"),
                Attribute("data-base", existing?["config"]?.jsonString ?? "{}"),
                Attribute("data-then", "/campaigns/\(Query.segment(id))")]
        } else {
            attributes += [Attribute("data-api", "/ui/api/v1/campaigns")]
        }
        let form = element("form", attributes,
            (id == nil ? nameAndAgent(agents) : HTML())
            + UI.field("Models", id: "models", hint: "One model name or path per line.", errorNames: "models") {
                el("textarea", .id("models"), .name("config.models"), Attribute("data-shape", "names"),
                    Attribute("rows", "4")) { models.joined(separator: "\n") }
            }
            + el("fieldset") {
                el("legend") { "Engines" }
                el("div", .class("checks")) {
                    for engine in catalog.engines {
                        el("label") {
                            element("input", [.type("checkbox"), .name("config.engines"), .value(engine.name),
                                Attribute("data-shape", "names")] + (engines.contains(engine.name) ? [.flag("checked")] : []),
                                HTML())
                            engine.name
                        }
                    }
                }
                el("p", .class("field-error"), .id("engines-error"), Attribute("data-error-for", "engines"), .flag("hidden"))
            }
            + el("fieldset") {
                el("legend") { "Benchmarks" }
                el("div", .class("checks")) {
                    for bench in QuickTestPages.benchmarks {
                        el("label") {
                            element("input", [.type("checkbox"), .name("config.benchmarks"), .value(bench)]
                                + (benches.contains(bench) || (benches.isEmpty && bench == "throughput") ? [.flag("checked")] : []),
                                HTML())
                            bench
                        }
                    }
                }
                el("p", .class("field-error"), .id("benchmarks-error"), Attribute("data-error-for", "benchmarks"), .flag("hidden"))
            }
            + UI.field("Suite", id: "suite", errorNames: "suite_name") {
                void("input", .type("text"), .id("suite"), .name("config.suite_name"),
                    .value(config?["suite_name"]?.stringValue ?? "quick"))
            }
            + el("p", .class("check-result"), Attribute("data-run-count", ""), Attribute("aria-live", "polite"))
            + UI.formFooter {
                if id == nil {
                    el("button", .type("submit"), .class("secondary"), Attribute("data-then", "/campaigns/{id}")) { "Save draft" }
                    el("button", .type("submit"), Attribute("data-chain", "/ui/api/v1/campaigns/{id}/launch"),
                        Attribute("data-then", "/campaigns/{id}")) { "Launch" }
                } else {
                    el("button", .type("submit")) { "Save config" }
                }
            })
        return el("h1") { id == nil ? "New campaign" : "Edit campaign" } + form
    }

    static func nameAndAgent(_ agents: [JSON]) -> HTML {
        el("div", .class("cols")) {
            UI.field("Name", id: "name", errorNames: "name") {
                void("input", .type("text"), .id("name"), .name("name"))
            }
            UI.field("Agent", id: "agent", hint: agents.isEmpty ? "No agents yet: you can save a draft and pick one later." : nil,
                errorNames: "agent_id agent") {
                el("select", .id("agent"), .name("agent_id"), Attribute("data-optional", "")) {
                    el("option", .value("")) { "— choose later —" }
                    for agent in agents {
                        el("option", .value(UI.string(agent["id"]))) { UI.string(agent["name"]) }
                    }
                }
            }
        }
        + UI.field("Description", id: "description", errorNames: "description") {
            void("input", .type("text"), .id("description"), .name("description"), Attribute("data-optional", ""))
        }
    }

    // MARK: Detail

    /// Runs per page on a campaign's detail (a campaign can have thousands).
    static let runsPerPage = 50

    static func detail(_ answers: [APIBridge.Answer], viewer: Viewer, request: HTTPRequest) -> HTML {
        guard let campaign = answers[0].object else { return UI.failure(answers[0]) }
        let id = UI.string(campaign["id"])
        let status = UI.string(campaign["status"])
        let api = "/ui/api/v1/campaigns/" + Query.segment(id)
        let runs = answers.count > 2 ? answers[2].items.filter { $0["campaign_id"]?.stringValue == id } : []
        let runPager = answers.count > 2 ? UI.pager(answers[2].object, request: request) : HTML()
        let agent = answers.count > 3 ? answers[3].object : nil
        let lines = answers[1].object?["lines"]?.arrayValue ?? []
        let agentName = agent?["name"]?.stringValue
        // The head is a live region too: the actions follow the status (no Cancel once it is done).
        return el("div", .id("campaign-head"), Attribute("data-live-region", "")) {
            UI.pageHead(UI.string(campaign["name"])) {
                actions(api: api, id: id, status: status, viewer: viewer)
            }
        }
        + UI.signInNotice(viewer, doing: "launch, cancel, edit or delete this campaign")
        + body(campaign, id: id, status: status, runs: runs, runPager: runPager, lines: lines, agentName: agentName)
    }

    @HTMLBuilder
    static func actions(api: String, id: String, status: String, viewer: Viewer) -> HTML {
        if viewer.canWrite {
            if status == "draft" || status == "failed" {
                el("button", .type("button"), Attribute("data-action", api + "/launch"), Attribute("data-then", "reload"),
                    Attribute("data-output", "campaign-output")) { "Launch" }
            }
            if status == "draft" {
                el("a", .class("button secondary"), .href("/campaigns/\(Query.segment(id))/edit")) { "Edit config" }
            }
            if status == "queued" || status == "running" {
                el("button", .type("button"), .class("danger"), Attribute("data-action", api + "/cancel"),
                    Attribute("data-then", "reload"), Attribute("data-confirm", "Cancel this campaign?"),
                    Attribute("data-output", "campaign-output")) { "Cancel" }
            }
            el("button", .type("button"), .class("danger"), Attribute("data-action", api), Attribute("data-method", "DELETE"),
                Attribute("data-then", "/campaigns"), Attribute("data-confirm", "Delete this campaign?"),
                Attribute("data-output", "campaign-output")) { "Delete" }
        }
    }

    static func body(
        _ campaign: JSONObject, id: String, status: String, runs: [JSON], runPager: HTML, lines: [JSON],
        agentName: String?
    ) -> HTML {
        el("p", .class("error-box"), .id("campaign-output"), Attribute("role", "alert"), .flag("hidden"))
        + el("section", .class("panel"), .id("campaign-progress"), Attribute("data-live-region", "")) {
            el("h2") { "Progress " ; UI.status(status) }
            progress(campaign)
            el("dl", .class("facts small")) {
                el("dt") { "Agent" }
                el("dd") {
                    if let agent = campaign["agent_id"]?.stringValue {
                        el("a", .href("/agents/" + Query.segment(agent))) { agentName ?? agent }
                    } else { "none yet" }
                }
                UI.lifecycleRows(campaign)
                if let description = campaign["description"]?.stringValue, !description.isEmpty {
                    el("dt") { "Description" }
                    el("dd") { description }
                }
            }
            el("h2") { "Runs" }
            if runs.isEmpty {
                el("p", .class("muted")) { status == "draft" ? "Runs appear here once the campaign is launched." : "No runs yet." }
            } else {
                QuickTestPages.table(runs, emptyAgent: nil)
                runPager
            }
        }
        + el("h2") { "Log" }
        + QuickTestPages.logView(source: id, lines: Array(lines.suffix(1000)), total: lines.count)
        + el("h2") { "Config" }
        + el("pre", .class("script")) { campaign["config"]?.jsonString ?? "{}" }
    }
}
