import KittAPI
import KittHTTP
import KittJSON

/// `/quicktests` (history with filters), `/quicktests/new` (with the format check) and
/// `/quicktests/<id>` (status and a live log tail).
enum QuickTestPages {
    static let benchmarks = ["throughput", "latency"]
    static let statuses = ["queued", "dispatched", "running", "completed", "failed", "cancelled"]

    static func register(in router: inout Router, _ ui: WebUI) {
        let catalog = EngineCatalog.load(configDirectory: ui.context.settings.configDirectory)

        router.get("/quicktests") { request in
            ui.page(
                request, title: "Quick tests", section: .quicktests, live: ["status"],
                reads: [.init(get: Query.api("/api/v1/quicktest", from: request,
                    keeping: ["status", "agent_name", "page"], extra: [("per_page", "50")]))]
            ) { _, answers in
                UI.pageHead("Quick tests") { el("a", .class("button"), .href("/quicktests/new")) { "New quick test" } }
                    + filters(request)
                    + el("div", .id("qt-list"), Attribute("data-live-region", "")) {
                        if answers[0].ok {
                            table(answers[0].items, emptyAgent: nil)
                            UI.pager(answers[0].object, request: request)
                        } else {
                            UI.failure(answers[0])
                        }
                    }
            }
        }

        router.get("/quicktests/new") { request in
            ui.page(
                request, title: "New quick test", section: .quicktests,
                reads: ["/api/v1/agents?per_page=100", "/api/v1/quicktest/models?per_page=100", "/api/v1/models/local?per_page=100"]
                    + (ui.features.engineProfiles ? ["/api/v1/engines/profiles"] : [])
            ) { viewer, answers in
                newForm(answers, viewer: viewer, catalog: catalog, agent: request.queryValue("agent"),
                    model: request.queryValue("model"))
            }
        }

        router.get("/quicktests/:id") { request in
            let id = Query.segment(request.parameter("id"))
            return ui.page(
                request, title: "Quick test", section: .quicktests, detail: true, live: ["status", "log"],
                reads: [.init(get: "/api/v1/quicktest/\(id)"), .init(get: "/api/v1/quicktest/\(id)/logs")]
            ) { _, answers in
                detail(answers)
            }
        }
    }

    static func filters(_ request: HTTPRequest) -> HTML {
        el("form", .class("filters"), Attribute("method", "get"), Attribute("action", "/quicktests")) {
            UI.statusFilter(request, statuses: statuses)
            UI.field("Agent name", id: "f-agent") {
                void("input", .type("search"), .id("f-agent"), .name("agent_name"), .value(request.queryValue("agent_name") ?? ""))
            }
            el("button", .type("submit"), .class("secondary")) { "Filter" }
        }
    }

    static func table(_ tests: [JSON], emptyAgent: String?) -> HTML {
        if tests.isEmpty {
            let href = emptyAgent.map { "/quicktests/new?agent=" + Query.segment($0) } ?? "/quicktests/new"
            return UI.empty("No quick tests here yet. Start one to try a model on an engine.", action: (href, "New quick test"))
        }
        return el("div", .class("table-wrap")) {
            el("table") {
                el("thead") {
                    el("tr") {
                        el("th") { "Status" }
                        el("th") { "Model" }
                        el("th") { "Engine" }
                        el("th", .class("hide-narrow")) { "Benchmark" }
                        el("th", .class("hide-narrow")) { "Agent" }
                        el("th") { "Created" }
                    }
                }
                el("tbody") {
                    for test in tests {
                        el("tr") {
                            el("td") { UI.status(test["status"]?.stringValue) }
                            el("td") {
                                el("a", .class("wrap"), .href("/quicktests/" + Query.segment(UI.string(test["id"])))) {
                                    UI.string(test["model_path"])
                                }
                            }
                            el("td") { UI.string(test["engine_name"]) }
                            el("td", .class("hide-narrow")) { UI.string(test["benchmark_name"]) }
                            el("td", .class("hide-narrow")) { UI.string(test["agent_name"]) }
                            el("td") { UI.time(test["created_at"]?.stringValue) }
                        }
                    }
                }
            }
        }
    }

    static func newForm(_ answers: [APIBridge.Answer], viewer: Viewer, catalog: EngineCatalog, agent: String?, model: String?)
        -> HTML
    {
        let agents = answers[0].items
        var models: [(name: String, path: String, formats: [String])] = []
        for item in answers[1].items {
            models.append((UI.string(item["model_id"]), UI.string(item["path"]),
                (item["formats"]?.arrayValue ?? []).compactMap(\.stringValue)))
        }
        for item in answers[2].items where !models.contains(where: { $0.path == UI.string(item["path"]) }) {
            models.append((UI.string(item["name"]), UI.string(item["path"]),
                (item["formats"]?.arrayValue ?? []).compactMap(\.stringValue)))
        }
        return el("h1") { "New quick test" }
            + UI.signInNotice(viewer, doing: "start a quick test")
            + (agents.isEmpty && answers[0].ok
                ? UI.empty("A quick test runs on an agent, and there is none yet.", action: ("/agents/new", "Add an agent"))
                : HTML())
            + el("form", .class("stack panel"), .id("quicktest-form"), Attribute("data-api", "/ui/api/v1/quicktest"),
                Attribute("data-then", "/quicktests/{id}"), Attribute("data-format-check", "")) {
                UI.field("Agent", id: "agent_id", errorNames: "agent_id agent") {
                    el("select", .id("agent_id"), .name("agent_id")) {
                        for item in agents {
                            let id = UI.string(item["id"])
                            let label = UI.string(item["name"]) + " (" + UI.string(item["status"]) + ")"
                            element("option", id == agent || UI.string(item["name"]) == agent
                                ? [.value(id), .flag("selected")] : [.value(id)], HTML(text: label))
                        }
                    }
                }
                UI.field("Model", id: "model_path", hint: "A local model (start typing) or any path on the agent.",
                    errorNames: "model_path model format") {
                    void("input", .type("text"), .id("model_path"), .name("model_path"), Attribute("list", "model-options"),
                        .value(model ?? ""), Attribute("autocomplete", "off"))
                    el("datalist", .id("model-options")) {
                        for m in models {
                            el("option", .value(m.path), Attribute("data-formats", m.formats.joined(separator: ","))) { m.name }
                        }
                    }
                }
                el("div", .class("filters devon-search")) {
                    UI.field("Search Devon for a model", id: "devon-q") {
                        void("input", .type("search"), .id("devon-q"), Attribute("data-local", ""),
                            Attribute("placeholder", "e.g. qwen 7b"))
                    }
                    el("button", .type("button"), .class("secondary"), Attribute("data-devon-search", "")) { "Search" }
                    el("p", .class("hint"), .id("devon-status"), Attribute("role", "status"))
                }
                UI.field("Engine", id: "engine_name", errorNames: "engine_name engine") {
                    el("select", .id("engine_name"), .name("engine_name")) {
                        for engine in catalog.engines {
                            el("option", .value(engine.name), Attribute("data-formats", engine.formats.joined(separator: ","))) {
                                engine.name
                            }
                        }
                    }
                }
                el("p", .class("check-result"), Attribute("data-format-result", ""), Attribute("aria-live", "polite"))
                el("div", .class("cols")) {
                    UI.field("Benchmark", id: "benchmark_name", errorNames: "benchmark_name") {
                        el("select", .id("benchmark_name"), .name("benchmark_name")) {
                            for b in benchmarks { el("option", .value(b)) { b } }
                        }
                    }
                    UI.field("Suite", id: "suite_name", errorNames: "suite_name") {
                        void("input", .type("text"), .id("suite_name"), .name("suite_name"), .value("quick"))
                    }
                    UI.field("Engine mode", id: "engine_mode", errorNames: "engine_mode") {
                        el("select", .id("engine_mode"), .name("engine_mode")) {
                            el("option", .value("docker")) { "docker" }
                            el("option", .value("native")) { "native" }
                        }
                    }
                    UI.field("Engine profile", id: "profile_id", errorNames: "profile_id") {
                        profilePicker(answers.count > 3 ? answers[3] : nil)
                    }
                }
                el("label") {
                    void("input", .type("checkbox"), .name("force"), Attribute("data-shape", "bool"))
                    " Force: run even when the engine does not take the model's format"
                }
                UI.formFooter { el("button", .type("submit")) { "Start quick test" } }
            }
    }

    /// The engine profiles as a select when the server has them, else a free-text profile id.
    static func profilePicker(_ answer: APIBridge.Answer?) -> HTML {
        let profiles = (answer?.object?["profiles"]?.arrayValue ?? []).compactMap(\.objectValue)
        guard answer?.ok == true else {
            return void("input", .type("text"), .id("profile_id"), .name("profile_id"), Attribute("data-optional", ""),
                Attribute("placeholder", "optional profile id"))
        }
        return el("select", .id("profile_id"), .name("profile_id"), Attribute("data-optional", "")) {
            el("option", .value("")) { profiles.isEmpty ? "none defined" : "none" }
            for profile in profiles {
                el("option", .value(UI.string(profile["id"]))) {
                    UI.string(profile["name"]) + " (" + UI.string(profile["engine"]) + ")"
                }
            }
        }
    }

    static func detail(_ answers: [APIBridge.Answer]) -> HTML {
        guard let test = answers[0].object else { return UI.failure(answers[0]) }
        let id = UI.string(test["id"])
        let lines = answers[1].object?["lines"]?.arrayValue ?? []
        let shown = lines.suffix(1000)
        return UI.pageHead("Quick test " + id) {
            el("a", .class("button secondary"),
                .href("/quicktests/new?agent=" + Query.segment(UI.string(test["agent_id"])) + "&model="
                    + Query.segment(UI.string(test["model_path"])))) { "Run again" }
        }
        + el("section", .class("panel"), .id("qt-facts"), Attribute("data-live-region", "")) {
            el("dl", .class("facts")) {
                el("dt") { "Status" }
                el("dd", .id("qt-status")) { UI.status(test["status"]?.stringValue) }
                for (label, key) in [("Model", "model_path"), ("Engine", "engine_name"), ("Mode", "engine_mode"),
                    ("Benchmark", "benchmark_name"), ("Suite", "suite_name"), ("Agent", "agent_name")] {
                    el("dt") { label }
                    el("dd") { UI.string(test[key]) }
                }
                UI.lifecycleRows(test)
                if let result = test["result_id"]?.stringValue {
                    el("dt") { "Result" }
                    el("dd") { el("a", .href("/results/" + Query.segment(result))) { result } }
                }
                if let campaign = test["campaign_id"]?.stringValue {
                    el("dt") { "Campaign" }
                    el("dd") { el("a", .href("/campaigns/" + Query.segment(campaign))) { campaign } }
                }
            }
        }
        + el("h2") { "Log" }
        + logView(source: id, lines: Array(shown), total: lines.count)
    }

    /// A log tail the script appends to as `log` events for `source` arrive.
    static func logView(source: String, lines: [JSON], total: Int) -> HTML {
        (total > lines.count ? el("p", .class("muted small")) { "Showing the last \(lines.count) of \(total) lines." } : HTML())
            + el("pre", .class("log"), .id("log"), Attribute("data-source", source), Attribute("tabindex", "0"),
                Attribute("aria-label", "Log")) {
                if lines.isEmpty { el("span", .class("log-empty")) { "No log lines yet: they appear here as the agent sends them.\n" } }
                for line in lines { el("span") { UI.string(line["line"]) + "\n" } }
            }
    }
}
