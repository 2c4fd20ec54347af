import KittHTTP
import KittJSON

/// `/agents`, `/agents/new` (install one-liner) and `/agents/<id>` (facts, engines, settings,
/// notes/tags, quick tests, cleanup, token rotation, delete).
enum AgentPages {
    static func register(in router: inout Router, _ ui: WebUI) {
        router.get("/agents") { request in
            ui.page(
                request, title: "Agents", section: .agents, live: ["agent_status"],
                reads: [.init(get: Query.api("/api/v1/agents", from: request, keeping: ["page"], extra: [("per_page", "50")]))]
            ) { _, answers in
                UI.pageHead("Agents") { el("a", .class("button"), .href("/agents/new")) { "Add an agent" } }
                    + el("div", .id("agent-list"), Attribute("data-live-region", "")) {
                        cards(answers[0])
                        UI.pager(answers[0].object, request: request)
                    }
            }
        }

        router.get("/agents/new") { request in
            let server = ui.context.settings.publicURL
            let host = request.headers["Host"].map { (TLSScheme.of(server)) + "://" + $0 } ?? server
            return ui.page(request, title: "Add an agent", section: .agents, reads: []) { viewer, _ in
                addAgent(server: host, viewer: viewer)
            }
        }

        router.get("/agents/:id") { request in
            let id = Query.segment(request.parameter("id"))
            return ui.page(
                request, title: "Agent", section: .agents, detail: true, live: ["agent_status", "status"],
                reads: [.init(get: "/api/v1/agents/\(id)"), .init(get: "/api/v1/agents/\(id)/settings")],
                then: { first in
                    // This agent's quick tests, newest first (the list filters by agent name).
                    guard let name = first[0].object?["name"]?.stringValue else { return [] }
                    return [.init(get: "/api/v1/quicktest?per_page=25&agent_name=" + PercentEncoding.encode(name))]
                }
            ) { viewer, answers in
                detail(answers, viewer: viewer)
            }
        }
    }

    // MARK: List

    static func cards(_ answer: APIBridge.Answer) -> HTML {
        if let _ = answer.error { return UI.failure(answer) }
        let agents = answer.items
        if agents.isEmpty {
            return UI.empty(
                "No agents yet. Install one on a GPU machine with the one-line installer; it appears here as soon as it registers.",
                action: ("/agents/new", "Add an agent"))
        }
        return el("div", .class("grid")) {
            for agent in agents { card(agent) }
        }
    }

    static func card(_ agent: JSON) -> HTML {
        let id = UI.string(agent["id"])
        let name = UI.string(agent["name"])
        return el("article", .class("card"), Attribute("data-agent", name)) {
            el("h3") {
                el("a", .href("/agents/" + Query.segment(id))) { name }
                UI.status(agent["status"]?.stringValue)
            }
            el("dl", .class("facts small")) {
                el("dt") { "GPU" }
                el("dd") { gpu(agent) }
                el("dt") { "Heartbeat" }
                el("dd") { UI.time(agent["last_heartbeat"]?.stringValue) }
                el("dt") { "Engines" }
                el("dd") { engines(agent) }
                if let task = agent["current_task"]?.stringValue, !task.isEmpty {
                    el("dt") { "Task" }
                    el("dd") { task }
                }
            }
        }
    }

    static func gpu(_ agent: JSON) -> String {
        let info = UI.string(agent["gpu_info"])
        let count = agent["gpu_count"]?.intValue ?? 0
        if info.isEmpty { return "—" }
        return count > 1 ? "\(count) × \(info)" : info
    }

    static func engines(_ agent: JSON) -> HTML {
        let list = agent["engines"]?.arrayValue ?? []
        let names = list.compactMap { engine -> String? in
            guard let name = engine["engine"]?.stringValue ?? engine["name"]?.stringValue else { return nil }
            let running = engine["running"]?.boolValue == true ? " (running)" : ""
            return name + running
        }
        if names.isEmpty { return el("span", .class("muted")) { "none reported" } }
        return el("span", .class("tags")) { for name in names { el("span", .class("tag")) { name } } }
    }

    // MARK: Add an agent

    static func addAgent(server: String, viewer: Viewer) -> HTML {
        let command = "curl -fsSL --cacert ca.pem '\(server)/api/v1/agent/install.sh?name=gpu-01&port=8090' | bash"
        return el("h1") { "Add an agent" }
            + el("div", .class("panel")) {
                el("p") {
                    "Run this on the GPU machine. The script installs the agent, gives it its own token and starts it; "
                    "the agent then shows up on the dashboard within a heartbeat."
                }
                el("form", .class("stack"), .id("install-form"), Attribute("data-local", "")) {
                    UI.field("Agent name", id: "install-name", hint: "Letters, digits, dashes; not 16 hex characters.") {
                        void("input", .type("text"), .id("install-name"), .value("gpu-01"), Attribute("data-install", "name"))
                    }
                    UI.field("Agent port", id: "install-port") {
                        void("input", .type("number"), .id("install-port"), .value("8090"), Attribute("min", "1"),
                            Attribute("max", "65535"), Attribute("data-install", "port"))
                    }
                    UI.field("Engine URL", id: "install-engine", hint: "Optional: the engine's OpenAI-compatible endpoint on that machine.") {
                        void("input", .type("text"), .id("install-engine"), Attribute("placeholder", "http://localhost:8000"),
                            Attribute("data-install", "engine"))
                    }
                }
                el("pre", .class("script"), .id("install-command"), Attribute("data-server", server)) { command }
                el("div", .class("actions")) {
                    el("button", .type("button"), Attribute("data-copy", "install-command")) { "Copy" }
                    el("span", .class("hint")) {
                        "ca.pem is this server's CA (kitt prints its path at start); with a public certificate drop --cacert."
                    }
                }
                if !viewer.signedIn {
                    el("p", .class("notice")) {
                        "The script provisions a new agent by name; rotating an existing agent's token needs you to "
                        el("a", .href("/signin")) { "sign in" }
                        "."
                    }
                }
            }
    }

    // MARK: Detail

    static func detail(_ answers: [APIBridge.Answer], viewer: Viewer) -> HTML {
        guard let agent = answers[0].object else { return UI.failure(answers[0]) }
        let json = JSON.object(agent)
        let id = UI.string(agent["id"])
        let name = UI.string(agent["name"])
        let api = "/ui/api/v1/agents/" + Query.segment(id)
        let tests = answers.count > 2 ? answers[2].items : []
        return UI.pageHead(name) {
            el("a", .class("button"), .href("/quicktests/new?agent=" + Query.segment(id))) { "New quick test" }
        }
        + UI.signInNotice(viewer, doing: "change settings, run cleanup, rotate the token or delete this agent")
        + el("div", .class("cols")) {
            el("section", .class("panel"), .id("agent-facts"), Attribute("data-live-region", "")) {
                el("h2") { "Facts " ; UI.status(agent["status"]?.stringValue) }
                el("dl", .class("facts")) {
                    for (label, key) in facts {
                        el("dt") { label }
                        el("dd") { UI.string(agent[key]).isEmpty ? "—" : UI.string(agent[key]) }
                    }
                    el("dt") { "GPU" }
                    el("dd") { gpu(json) }
                    el("dt") { "Last heartbeat" }
                    el("dd") { UI.time(agent["last_heartbeat"]?.stringValue) }
                    el("dt") { "Registered" }
                    el("dd") { UI.time(agent["registered_at"]?.stringValue) }
                    el("dt") { "Engines" }
                    el("dd") { engines(json) }
                }
            }
            el("section", .class("panel")) {
                el("h2") { "Notes and tags" }
                el("form", .class("stack"), Attribute("data-api", api), Attribute("data-method", "PATCH"),
                    Attribute("data-done", "Saved.")) {
                    UI.field("Notes", id: "notes", errorNames: "notes") {
                        el("textarea", .id("notes"), .name("notes")) { UI.string(agent["notes"]) }
                    }
                    UI.field("Tags", id: "tags", hint: "Comma separated.", errorNames: "tags") {
                        void("input", .type("text"), .id("tags"), .name("tags"), Attribute("data-shape", "tags"),
                            .value((agent["tags"]?.arrayValue ?? []).compactMap(\.stringValue).joined(separator: ", ")))
                    }
                    UI.formFooter { el("button", .type("submit")) { "Save notes" } }
                }
            }
        }
        + settings(answers[1], api: api)
        + el("section", .id("agent-tests"), Attribute("data-live-region", "")) {
            el("h2") { "Queued and recent quick tests" }
            QuickTestPages.table(tests, emptyAgent: id)
        }
        + el("section", .class("panel")) {
            el("h2") { "Maintenance" }
            el("div", .class("actions")) {
                el("button", .type("button"), .class("secondary"), Attribute("data-action", api + "/cleanup"),
                    Attribute("data-output", "maintenance-output"), Attribute("data-show-field", "command_id"),
                    Attribute("data-show-prefix", "Cleanup queued for the next heartbeat: command ")) {
                    "Clean up storage"
                }
                if viewer.features.rotateToken {
                    el("button", .type("button"), .class("secondary"), Attribute("data-action", api + "/rotate-token"),
                        Attribute("data-confirm", "Rotate this agent's token? The old one stops working at once."),
                        Attribute("data-output", "maintenance-output"), Attribute("data-show-field", "token"),
                    Attribute("data-show-prefix", "New token (shown once; put it in the agent's config): ")) {
                        "Rotate token"
                    }
                }
                el("button", .type("button"), .class("danger"), Attribute("data-action", api),
                    Attribute("data-method", "DELETE"), Attribute("data-then", "/agents"),
                    Attribute("data-confirm", "Delete agent \(name)? Its quick tests and campaigns stay readable."),
                    Attribute("data-output", "maintenance-output")) {
                    "Delete agent"
                }
            }
            el("p", .class("secret"), .id("maintenance-output"), Attribute("role", "status"), .flag("hidden"))
        }
    }

    static let facts: [(String, String)] = [
        ("ID", "id"), ("Host", "hostname"), ("Port", "port"), ("CPU", "cpu_info"), ("Arch", "cpu_arch"),
        ("RAM (GB)", "ram_gb"), ("Environment", "environment_type"), ("kitt version", "kitt_version"),
        ("GPU use %", "gpu_utilization_pct"), ("Free storage (GB)", "storage_gb_free"),
    ]

    static let settingKeys: [(key: String, label: String, hint: String)] = [
        ("model_storage_dir", "Model storage directory", "Where the agent keeps models."),
        ("model_share_source", "Model share source", "An NFS/SMB source to mount, or empty."),
        ("model_share_mount", "Model share mount point", ""),
        ("auto_cleanup", "Automatic cleanup", "Remove models after runs to free space."),
        ("heartbeat_interval_s", "Heartbeat interval (s)", "10 to 300."),
        ("kitt_image", "KITT image", "Container image for docker runs; empty for the default."),
    ]

    static func settings(_ answer: APIBridge.Answer, api: String) -> HTML {
        el("section", .class("panel")) {
            el("h2") { "Settings" }
            if let values = answer.object {
                el("form", .class("stack"), Attribute("data-api", api + "/settings"), Attribute("data-method", "PUT"),
                    Attribute("data-done", "Settings saved; the agent gets them with its next heartbeat.")) {
                    for setting in settingKeys {
                        UI.field(setting.label, id: setting.key, hint: setting.hint.isEmpty ? nil : setting.hint) {
                            if setting.key == "auto_cleanup" {
                                el("select", .id(setting.key), .name(setting.key)) {
                                    for option in ["true", "false"] {
                                        element("option", UI.string(values[setting.key]) == option
                                            ? [.value(option), .flag("selected")] : [.value(option)], HTML(text: option))
                                    }
                                }
                            } else {
                                void("input", .type("text"), .id(setting.key), .name(setting.key),
                                    .value(UI.string(values[setting.key])))
                            }
                        }
                    }
                    UI.formFooter { el("button", .type("submit")) { "Save settings" } }
                }
            } else {
                UI.failure(answer)
            }
        }
    }
}

enum TLSScheme {
    static func of(_ url: String) -> String { url.hasPrefix("http://") ? "http" : "https" }
}
