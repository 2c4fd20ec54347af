import KittHTTP
import KittJSON

/// `/models`: the local models (delete), and a Devon search with a download button.
enum ModelPages {
    static func register(in router: inout Router, _ ui: WebUI) {
        router.get("/models") { request in
            let query = request.queryValue("q") ?? ""
            var reads: [APIBridge.Read] = [
                .init(get: Query.api("/api/v1/models/local", from: request, keeping: ["page"], extra: [("per_page", "50")])),
                "/api/v1/models/downloads?per_page=20",
            ]
            if !query.isEmpty { reads.append(.init(get: "/api/v1/models/search?limit=20&q=" + PercentEncoding.encode(query))) }
            return ui.page(request, title: "Models", section: .models, live: ["model_download"], reads: reads) {
                viewer, answers in
                UI.pageHead("Models")
                    + UI.signInNotice(viewer, doing: "download or delete models")
                    + downloads(answers[1])
                    + el("section", .id("models-local"), Attribute("data-live-region", "")) {
                        el("h2") { "On this server" }
                        local(answers[0], viewer: viewer)
                        UI.pager(answers[0].object, request: request)
                    }
                    + el("h2") { "Find a model (Devon)" }
                    + search(query: query, answer: answers.count > 2 ? answers[2] : nil, viewer: viewer)
            }
        }
    }

    /// `/ui/api/v1/models/org/name`: each segment encoded, the slash kept (the API takes the rest of the path).
    static func modelPath(_ repoID: String) -> String {
        "/ui/api/v1/models/" + repoID.split(separator: "/", omittingEmptySubsequences: false)
            .map { PercentEncoding.encode(String($0)) }.joined(separator: "/")
    }

    /// Downloads started on this server, updated live from `model_download` events; a running
    /// one counts its time in the browser (Devon reports no byte progress).
    static func downloads(_ answer: APIBridge.Answer) -> HTML {
        el("section", .id("model-downloads"), Attribute("data-live-region", ""), Attribute("aria-live", "polite")) {
            if !answer.items.isEmpty {
                el("h2") { "Downloads" }
                el("ul", .class("downloads")) {
                    for item in answer.items {
                        let status = UI.string(item["status"])
                        el("li", Attribute("data-download", UI.string(item["repo_id"]))) {
                            UI.status(status)
                            " "
                            el("span", .class("wrap")) { UI.string(item["repo_id"]) }
                            " "
                            if status == "running" {
                                el("span", .class("muted"), Attribute("data-elapsed-since", UI.string(item["started_at"]))) {
                                    "running"
                                }
                            } else if let error = item["error"]?.stringValue {
                                el("span", .class("field-error small")) { error }
                            } else {
                                el("code", .class("wrap small")) { UI.string(item["path"]) }
                            }
                        }
                    }
                }
            }
        }
    }

    static func local(_ answer: APIBridge.Answer, viewer: Viewer) -> HTML {
        if let _ = answer.error { return UI.failure(answer) }
        if answer.items.isEmpty {
            return UI.empty("No models in the model directory yet. Search Devon below to download one.")
        }
        return el("div", .class("table-wrap")) {
            el("table") {
                el("thead") {
                    el("tr") {
                        el("th") { "Model" }
                        el("th") { "Formats" }
                        el("th", .class("num")) { "Size (GB)" }
                        el("th", .class("hide-narrow")) { "Path" }
                        if viewer.canWrite { el("th") { el("span", .class("muted")) { "Actions" } } }
                    }
                }
                el("tbody") {
                    for (index, model) in answer.items.enumerated() {
                        let name = UI.string(model["name"])
                        el("tr") {
                            el("td") {
                                el("a", .class("wrap"), .href("/quicktests/new?model=" + PercentEncoding.encode(UI.string(model["path"])))) {
                                    name
                                }
                            }
                            el("td") { (model["formats"]?.arrayValue ?? []).compactMap(\.stringValue).joined(separator: ", ") }
                            el("td", .class("num")) { UI.number(model["size_gb"]) }
                            el("td", .class("hide-narrow")) { el("code", .class("wrap small")) { UI.string(model["path"]) } }
                            if viewer.canWrite {
                                el("td") {
                                    el("button", .type("button"), .class("danger"), Attribute("data-action", modelPath(name)),
                                        Attribute("data-method", "DELETE"), Attribute("data-then", "reload"),
                                        Attribute("data-confirm", "Delete \(name) and its files?"),
                                        Attribute("data-output", "model-output-\(index)")) { "Delete" }
                                    el("span", .class("field-error small"), .id("model-output-\(index)"), .flag("hidden"))
                                }
                            }
                        }
                    }
                }
            }
        }
    }

    static func search(query: String, answer: APIBridge.Answer?, viewer: Viewer) -> HTML {
        el("form", .class("filters"), Attribute("method", "get"), Attribute("action", "/models")) {
            UI.field("Search", id: "q") {
                void("input", .type("search"), .id("q"), .name("q"), .value(query), Attribute("placeholder", "e.g. llama 8b gguf"))
            }
            el("button", .type("submit"), .class("secondary")) { "Search" }
        }
        + results(answer, viewer: viewer)
    }

    static func results(_ answer: APIBridge.Answer?, viewer: Viewer) -> HTML {
        guard let answer else { return HTML() }
        if let _ = answer.error { return UI.failure(answer) }
        if answer.items.isEmpty { return el("p", .class("muted")) { "Nothing found. Try fewer words." } }
        return el("div", .class("table-wrap")) {
            el("table") {
                el("thead") {
                    el("tr") {
                        el("th") { "Repository" }
                        el("th", .class("hide-narrow")) { "Source" }
                        el("th", .class("num")) { "Size (GB)" }
                        el("th", .class("num hide-narrow")) { "Downloads" }
                        if viewer.canWrite { el("th") { el("span", .class("muted")) { "Actions" } } }
                    }
                }
                el("tbody") {
                    for (index, item) in answer.items.enumerated() {
                        let repo = UI.string(item["repo_id"])
                        let source = item["source"]?.stringValue ?? "huggingface"
                        el("tr") {
                            el("td") { el("span", .class("wrap")) { repo } }
                            el("td", .class("hide-narrow")) { UI.string(item["source"]) }
                            el("td", .class("num")) { UI.number(item["size_gb"]) }
                            el("td", .class("num hide-narrow")) { UI.number(item["downloads"]) }
                            if viewer.canWrite {
                                el("td") {
                                    el("button", .type("button"), Attribute("data-action", "/ui/api/v1/models/download"),
                                        Attribute("data-body", JSON.object(["repo_id": .string(repo), "source": .string(source)]).jsonString),
                                        Attribute("data-busy", "Downloading…"), Attribute("data-then", "reload"),
                                        Attribute("data-output", "download-output-\(index)")) { "Download" }
                                    el("span", .class("field-error small"), .id("download-output-\(index)"), .flag("hidden"))
                                }
                            }
                        }
                    }
                }
            }
        }
    }
}
