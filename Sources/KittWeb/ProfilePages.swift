import KittAPI
import KittHTTP
import KittJSON

/// `/profiles` (engine profiles: list, create, edit, delete) over `/api/v1/engines/profiles`
/// (SPEC §7.1). When this server has no such API the page says so instead of failing.
enum ProfilePages {
    static func register(in router: inout Router, _ ui: WebUI) {
        let catalog = EngineCatalog.load(configDirectory: ui.context.settings.configDirectory)

        router.get("/profiles") { request in
            ui.page(request, title: "Engine profiles", section: .profiles, reads: ["/api/v1/engines/profiles"]) {
                _, answers in
                UI.pageHead("Engine profiles") { el("a", .class("button"), .href("/profiles/new")) { "New profile" } }
                    + list(answers[0])
            }
        }

        router.get("/profiles/new") { request in
            ui.page(request, title: "New engine profile", section: .profiles, reads: []) { viewer, _ in
                el("h1") { "New engine profile" }
                    + UI.signInNotice(viewer, doing: "create a profile")
                    + form(nil, catalog: catalog)
            }
        }

        router.get("/profiles/:id") { request in
            let id = Query.segment(request.parameter("id"))
            return ui.page(
                request, title: "Engine profile", section: .profiles, detail: true,
                reads: [.init(get: "/api/v1/engines/profiles/\(id)")]
            ) { viewer, answers in
                guard let profile = answers[0].object else { return UI.failure(answers[0]) }
                return UI.pageHead(UI.string(profile["name"])) {
                    if viewer.canWrite {
                        el("button", .type("button"), .class("danger"),
                            Attribute("data-action", "/ui/api/v1/engines/profiles/" + Query.segment(UI.string(profile["id"]))),
                            Attribute("data-method", "DELETE"), Attribute("data-then", "/profiles"),
                            Attribute("data-confirm", "Delete this profile?"), Attribute("data-output", "profile-output")) {
                            "Delete"
                        }
                    }
                }
                + el("p", .class("error-box"), .id("profile-output"), .flag("hidden"))
                + UI.signInNotice(viewer, doing: "change this profile")
                + form(profile, catalog: catalog)
            }
        }
    }

    static func list(_ answer: APIBridge.Answer) -> HTML {
        if answer.status == 404 {
            return UI.empty("This server has no engine profiles API yet.")
        }
        if let _ = answer.error { return UI.failure(answer) }
        let profiles = (answer.object?["profiles"]?.arrayValue ?? []).compactMap(\.objectValue)
        if profiles.isEmpty {
            return UI.empty("No engine profiles yet. A profile keeps an engine's build and runtime settings under a name.",
                action: ("/profiles/new", "New profile"))
        }
        return el("div", .class("table-wrap")) {
            el("table") {
                el("thead") {
                    el("tr") {
                        el("th") { "Name" }
                        el("th") { "Engine" }
                        el("th") { "Mode" }
                        el("th", .class("hide-narrow")) { "Description" }
                        el("th", .class("hide-narrow")) { "Updated" }
                    }
                }
                el("tbody") {
                    for profile in profiles {
                        el("tr") {
                            el("td") {
                                el("a", .class("wrap"), .href("/profiles/" + Query.segment(UI.string(profile["id"])))) {
                                    UI.string(profile["name"])
                                }
                            }
                            el("td") { UI.string(profile["engine"]) }
                            el("td") { UI.string(profile["mode"]) }
                            el("td", .class("hide-narrow")) { UI.string(profile["description"]) }
                            el("td", .class("hide-narrow")) { UI.time(profile["updated_at"]?.stringValue) }
                        }
                    }
                }
            }
        }
    }

    static func form(_ profile: JSONObject?, catalog: EngineCatalog) -> HTML {
        var attributes: [Attribute] = [.class("stack panel"), .id("profile-form")]
        if let profile {
            attributes += [Attribute("data-api", "/ui/api/v1/engines/profiles/" + Query.segment(UI.string(profile["id"]))),
                Attribute("data-method", "PUT"), Attribute("data-done", "Saved.")]
        } else {
            attributes += [Attribute("data-api", "/ui/api/v1/engines/profiles"), Attribute("data-then", "/profiles/{id}")]
        }
        let engine = profile?["engine"]?.stringValue
        let mode = profile?["mode"]?.stringValue ?? "docker"
        return element("form", attributes,
            el("div", .class("cols")) {
                UI.field("Name", id: "name", errorNames: "name") {
                    void("input", .type("text"), .id("name"), .name("name"), .value(UI.string(profile?["name"])))
                }
                UI.field("Engine", id: "engine", errorNames: "engine") {
                    el("select", .id("engine"), .name("engine")) {
                        for item in catalog.engines {
                            element("option", item.name == engine ? [.value(item.name), .flag("selected")] : [.value(item.name)],
                                HTML(text: item.name))
                        }
                    }
                }
                UI.field("Mode", id: "mode", errorNames: "mode") {
                    el("select", .id("mode"), .name("mode")) {
                        for option in ["docker", "native"] {
                            element("option", option == mode ? [.value(option), .flag("selected")] : [.value(option)],
                                HTML(text: option))
                        }
                    }
                }
                UI.field("Description", id: "description", errorNames: "description") {
                    void("input", .type("text"), .id("description"), .name("description"),
                        .value(UI.string(profile?["description"])))
                }
            }
            + UI.field("Build config (JSON object)", id: "build_config", errorNames: "build_config") {
                el("textarea", .id("build_config"), .name("build_config"), Attribute("data-shape", "json")) {
                    profile?["build_config"]?.jsonString ?? "{}"
                }
            }
            + UI.field("Runtime config (JSON object)", id: "runtime_config", errorNames: "runtime_config") {
                el("textarea", .id("runtime_config"), .name("runtime_config"), Attribute("data-shape", "json")) {
                    profile?["runtime_config"]?.jsonString ?? "{}"
                }
            }
            + UI.formFooter { el("button", .type("submit")) { profile == nil ? "Create profile" : "Save profile" } })
    }
}
