import KittHTTP
import KittJSON

/// `/results` (filters, pagination, pick to compare), `/results/<id>`, `/results/compare`
/// (a chart per metric) and `/results/aggregate` (by model, engine or suite, with a chart).
enum ResultPages {
    static func register(in router: inout Router, _ ui: WebUI) {
        router.get("/results") { request in
            ui.page(
                request, title: "Results", section: .results,
                reads: [.init(get: Query.api("/api/v1/results", from: request,
                    keeping: ["model", "engine", "suite_name", "page"], extra: [("per_page", "50")]))]
            ) { _, answers in
                UI.pageHead("Results") { el("a", .class("button secondary"), .href("/results/aggregate")) { "Aggregate" } }
                    + filters(request)
                    + el("form", Attribute("method", "get"), Attribute("action", "/results/compare")) {
                        table(answers[0], selectable: true)
                        if !answers[0].items.isEmpty {
                            el("div", .class("actions")) {
                                el("button", .type("submit"), .id("compare-button")) { "Compare selected (2–8)" }
                            }
                        }
                    }
                    + UI.pager(answers[0].object, request: request)
            }
        }

        router.get("/results/compare") { request in
            let ids = Array(request.queryValues("ids").prefix(8))
            return ui.page(
                request, title: "Compare results", section: .results,
                reads: [.init(post: "/api/v1/results/compare", ["ids": .array(ids.map(JSON.string))])]
            ) { _, answers in
                compare(answers[0], asked: ids.count)
            }
        }

        router.get("/results/aggregate") { request in
            let group = request.queryValue("group_by") ?? "model"
            let metric = request.queryValue("metric") ?? ""
            var target = "/api/v1/results/aggregate?group_by=" + PercentEncoding.encode(group)
            if !metric.isEmpty { target += "&metric=" + PercentEncoding.encode(metric) }
            return ui.page(request, title: "Aggregate", section: .results, reads: [.init(get: target)]) { _, answers in
                aggregate(answers[0], group: group, metric: metric)
            }
        }

        router.get("/results/:id") { request in
            let id = Query.segment(request.parameter("id"))
            return ui.page(request, title: "Result", section: .results, detail: true, reads: [.init(get: "/api/v1/results/\(id)")]) {
                viewer, answers in
                detail(answers[0], viewer: viewer)
            }
        }
    }

    static func filters(_ request: HTTPRequest) -> HTML {
        el("form", .class("filters"), Attribute("method", "get"), Attribute("action", "/results")) {
            for (label, name) in [("Model", "model"), ("Engine", "engine"), ("Suite", "suite_name")] {
                UI.field(label, id: "f-" + name) {
                    void("input", .type("search"), .id("f-" + name), .name(name), .value(request.queryValue(name) ?? ""))
                }
            }
            el("button", .type("submit"), .class("secondary")) { "Filter" }
        }
    }

    static func title(_ result: JSON) -> String {
        UI.string(result["model"]) + " / " + UI.string(result["engine"])
    }

    /// A chart label: the model's last path component, the engine and a short id.
    static func shortTitle(_ result: JSON) -> String {
        let model = UI.string(result["model"]).split(separator: "/").last.map(String.init) ?? ""
        return model + " / " + UI.string(result["engine"]) + " · " + String(UI.string(result["id"]).prefix(4))
    }

    static func table(_ answer: APIBridge.Answer, selectable: Bool) -> HTML {
        if let _ = answer.error { return UI.failure(answer) }
        let results = answer.items
        if results.isEmpty {
            return UI.empty("No results yet. Run a quick test or a campaign, or load old runs with `kitt import DIR`.",
                action: ("/quicktests/new", "New quick test"))
        }
        return el("div", .class("table-wrap")) {
            el("table") {
                el("thead") {
                    el("tr") {
                        if selectable { el("th") { el("span", .class("muted")) { "Pick" } } }
                        el("th") { "Model" }
                        el("th") { "Engine" }
                        el("th", .class("hide-narrow")) { "Suite" }
                        el("th") { "Outcome" }
                        el("th", .class("num hide-narrow")) { "Time (s)" }
                        el("th") { "When" }
                    }
                }
                el("tbody") {
                    for result in results {
                        let id = UI.string(result["id"])
                        el("tr") {
                            if selectable {
                                el("td") {
                                    void("input", .type("checkbox"), .name("ids"), .value(id), .id("pick-" + id),
                                        Attribute("aria-label", "Compare " + title(result)))
                                }
                            }
                            el("td") { el("a", .class("wrap"), .href("/results/" + Query.segment(id))) { UI.string(result["model"]) } }
                            el("td") { UI.string(result["engine"]) }
                            el("td", .class("hide-narrow")) { UI.string(result["suite_name"]) }
                            el("td") {
                                UI.status(result["passed"]?.boolValue == true ? "passed" : "failed")
                                el("span", .class("muted small")) {
                                    " \(UI.number(result["passed_count"]))/\(UI.number(result["total_benchmarks"]))"
                                }
                            }
                            el("td", .class("num hide-narrow")) { UI.number(result["total_time_seconds"]) }
                            el("td") { UI.time(result["timestamp"]?.stringValue) }
                        }
                    }
                }
            }
        }
    }

    static func detail(_ answer: APIBridge.Answer, viewer: Viewer) -> HTML {
        guard let result = answer.object else { return UI.failure(answer) }
        let json = JSON.object(result)
        let benchmarks = result["results"]?.arrayValue ?? []
        return UI.pageHead(title(json)) {
            if viewer.canWrite {
                el("button", .type("button"), .class("danger"),
                    Attribute("data-action", "/ui/api/v1/results/" + Query.segment(UI.string(result["id"]))),
                    Attribute("data-method", "DELETE"), Attribute("data-then", "/results"),
                    Attribute("data-confirm", "Delete this result?"), Attribute("data-output", "result-output")) { "Delete" }
            }
        }
        + el("p", .class("error-box"), .id("result-output"), .flag("hidden"))
        + el("section", .class("panel")) {
            el("dl", .class("facts")) {
                el("dt") { "Outcome" }
                el("dd") { UI.status(result["passed"]?.boolValue == true ? "passed" : "failed") }
                for (label, key) in [("Suite", "suite_name"), ("Benchmarks", "total_benchmarks"), ("Passed", "passed_count"),
                    ("Failed", "failed_count"), ("Total time (s)", "total_time_seconds"), ("KITT version", "kitt_version")] {
                    el("dt") { label }
                    el("dd") { UI.string(result[key]) }
                }
                el("dt") { "When" }
                el("dd") { UI.time(result["timestamp"]?.stringValue) }
                if let system = result["system_info"]?.objectValue {
                    el("dt") { "GPU" }
                    el("dd") {
                        UI.string(system["gpu"]?["model"]) + " × " + UI.string(system["gpu"]?["count"])
                            + " (" + UI.string(system["gpu"]?["vram_gb"]) + " GB)"
                    }
                    el("dt") { "CPU" }
                    el("dd") { UI.string(system["cpu"]?["model"]) }
                }
            }
        }
        + el("h2") { "Benchmarks" }
        + (benchmarks.isEmpty ? el("p", .class("muted")) { "This result has no benchmark entries." } : HTML())
        + el("div", .class("grid")) {
            for bench in benchmarks {
                el("article", .class("card")) {
                    el("h3") {
                        UI.string(bench["test_name"]) + " #" + UI.string(bench["run_number"])
                        UI.status(bench["passed"]?.boolValue == true ? "passed" : "failed")
                    }
                    el("dl", .class("facts small")) {
                        for (name, value) in bench["metrics"]?.objectValue ?? JSONObject() {
                            el("dt") { name }
                            el("dd") { UI.number(value) }
                        }
                    }
                    for error in bench["errors"]?.arrayValue ?? [] {
                        el("p", .class("field-error small")) { UI.string(error) }
                    }
                }
            }
        }
    }

    /// The average of each `test_name.metric` over a result's runs.
    static func metrics(of result: JSON) -> [(String, Double)] {
        var sums: [String: (Double, Int)] = [:]
        var order: [String] = []
        for bench in result["results"]?.arrayValue ?? [] {
            let test = UI.string(bench["test_name"])
            for (name, value) in bench["metrics"]?.objectValue ?? JSONObject() {
                guard let number = value.doubleValue, number.isFinite else { continue }
                let key = test.isEmpty ? name : test + "." + name
                if sums[key] == nil { order.append(key) }
                let (sum, count) = sums[key] ?? (0, 0)
                sums[key] = (sum + number, count + 1)
            }
        }
        return order.compactMap { key in sums[key].map { (key, $0.0 / Double($0.1)) } }
    }

    static func compare(_ answer: APIBridge.Answer, asked: Int) -> HTML {
        let head = UI.pageHead("Compare results") { el("a", .class("button secondary"), .href("/results")) { "Pick others" } }
        if asked < 2 {
            return head + UI.empty("Pick 2 to 8 results on the results page to compare them.", action: ("/results", "Pick results"))
        }
        guard answer.ok, let results = answer.json?.arrayValue else { return head + UI.failure(answer) }
        let labels = results.map { shortTitle($0) }
        let perResult = results.map { Dictionary(metrics(of: $0), uniquingKeysWith: { a, _ in a }) }
        var names: [String] = []
        for result in results { for (name, _) in metrics(of: result) where !names.contains(name) { names.append(name) } }
        return head
            + el("div", .class("table-wrap")) {
                el("table") {
                    el("thead") {
                        el("tr") {
                            el("th") { "Result" }
                            el("th") { "Suite" }
                            el("th") { "Outcome" }
                            el("th") { "When" }
                        }
                    }
                    el("tbody") {
                        for (index, result) in results.enumerated() {
                            el("tr") {
                                el("td") { el("a", .href("/results/" + Query.segment(UI.string(result["id"])))) { labels[index] } }
                                el("td") { UI.string(result["suite_name"]) }
                                el("td") { UI.status(result["passed"]?.boolValue == true ? "passed" : "failed") }
                                el("td") { UI.time(result["timestamp"]?.stringValue) }
                            }
                        }
                    }
                }
            }
            + el("h2") { "Metrics" }
            + (names.isEmpty ? el("p", .class("muted")) { "These results share no numeric metrics." } : HTML())
            + el("div", .class("charts")) {
                for name in names {
                    Charts.bars(
                        title: name,
                        bars: results.indices.compactMap { i in perResult[i][name].map { Charts.Bar(label: labels[i], value: $0) } },
                        lowerIsBetter: Charts.lowerIsBetter(name))
                }
            }
    }

    static func aggregate(_ answer: APIBridge.Answer, group: String, metric: String) -> HTML {
        let form = el("form", .class("filters"), Attribute("method", "get"), Attribute("action", "/results/aggregate")) {
            UI.field("Group by", id: "group_by") {
                el("select", .id("group_by"), .name("group_by")) {
                    for option in ["model", "engine", "suite_name"] {
                        element("option", option == group ? [.value(option), .flag("selected")] : [.value(option)], HTML(text: option))
                    }
                }
            }
            UI.field("Metric", id: "metric") {
                void("input", .type("text"), .id("metric"), .name("metric"), .value(metric),
                    Attribute("placeholder", "a metric name, e.g. avg_tps"))
            }
            el("button", .type("submit"), .class("secondary")) { "Show" }
        }
        let head = el("h1") { "Aggregate" } + form
        guard answer.ok, let rows = answer.json?.arrayValue else { return head + UI.failure(answer) }
        if rows.isEmpty { return head + UI.empty("Nothing to aggregate yet: there are no results.") }
        let key = metric.isEmpty ? "count" : metric + "_avg"
        let bars = rows.compactMap { row -> Charts.Bar? in
            guard let value = row[key]?.doubleValue else { return nil }
            return Charts.Bar(label: UI.string(row[group]), value: value)
        }
        return head
            + (bars.isEmpty ? HTML() : Charts.bars(title: key, bars: bars, lowerIsBetter: Charts.lowerIsBetter(key)))
            + el("div", .class("table-wrap")) {
                el("table") {
                    el("thead") {
                        el("tr") {
                            el("th") { group }
                            el("th", .class("num")) { "Results" }
                            if !metric.isEmpty { el("th", .class("num")) { key } }
                        }
                    }
                    el("tbody") {
                        for row in rows {
                            el("tr") {
                                el("td") { UI.string(row[group]) }
                                el("td", .class("num")) { UI.number(row["count"]) }
                                if !metric.isEmpty { el("td", .class("num")) { UI.number(row[key]) } }
                            }
                        }
                    }
                }
            }
    }
}
