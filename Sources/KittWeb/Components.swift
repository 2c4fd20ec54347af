import KittHTTP
import KittJSON

/// Small pieces every page uses: badges, times, empty states, errors, pagination, fields.
enum UI {
    static func status(_ value: String?) -> HTML {
        let text = value ?? "unknown"
        let safeClass = String(text.unicodeScalars.filter { $0.properties.isAlphabetic || $0 == "_" }.map(Character.init))
        return el("span", .class("badge s-\(safeClass)")) { text }
    }

    /// An ISO time the script rewrites into the browser's time zone.
    static func time(_ iso: String?) -> HTML {
        guard let iso, !iso.isEmpty else { return el("span", .class("muted")) { "—" } }
        return el("time", Attribute("datetime", iso)) { iso }
    }

    /// The `<dt>/<dd>` rows a quick test and a campaign share: created, started, finished
    /// (in the browser's time zone) and the error, when there is one.
    @HTMLBuilder static func lifecycleRows(_ object: JSONObject) -> HTML {
        el("dt") { "Created" }
        el("dd") { time(object["created_at"]?.stringValue) }
        el("dt") { "Started" }
        el("dd") { time(object["started_at"]?.stringValue) }
        el("dt") { "Finished" }
        el("dd") { time(object["completed_at"]?.stringValue) }
        if let error = object["error"]?.stringValue {
            el("dt") { "Error" }
            el("dd", .class("field-error")) { error }
        }
    }

    /// A list page's "Status" select: "Any" plus `statuses`, the request's choice selected.
    static func statusFilter(_ request: HTTPRequest, statuses: [String]) -> HTML {
        field("Status", id: "f-status") {
            el("select", .id("f-status"), .name("status")) {
                el("option", .value("")) { "Any" }
                for status in statuses {
                    element("option", request.queryValue("status") == status ? [.value(status), .flag("selected")] : [.value(status)],
                        HTML(text: status))
                }
            }
        }
    }

    static func empty(_ message: String, action: (href: String, label: String)? = nil) -> HTML {
        el("div", .class("empty")) {
            el("p") { message }
            if let action { el("a", .class("button"), .href(action.href)) { action.label } }
        }
    }

    /// A failed API read: what the API said, plus a sign-in hint when it wants credentials.
    static func failure(_ answer: APIBridge.Answer) -> HTML {
        el("div", .class("error-box"), Attribute("role", "alert")) {
            answer.error ?? "Failed"
            if answer.needsSignIn {
                " — "
                el("a", .href("/signin")) { "sign in" }
                " to see this."
            }
        }
    }

    static func pageHead(_ title: String, @HTMLBuilder actions: () -> HTML = { HTML() }) -> HTML {
        el("div", .class("page-head")) {
            el("h1") { title }
            el("div", .class("actions")) { actions() }
        }
    }

    /// "Previous / page P of N / Next" for an API envelope; other query parameters are kept.
    static func pager(_ envelope: JSONObject?, request: HTTPRequest) -> HTML {
        guard let envelope, let page = envelope["page"]?.intValue, let pages = envelope["pages"]?.intValue,
            pages > 1
        else { return HTML() }
        let total = envelope["total"]?.intValue ?? 0
        return el("nav", .class("pager"), Attribute("aria-label", "Pages")) {
            if page > 1 { el("a", .class("button secondary"), .href(link(request, page: page - 1))) { "← Previous" } }
            el("span", .class("muted")) { "Page \(page) of \(pages) · \(total) in all" }
            if page < pages { el("a", .class("button secondary"), .href(link(request, page: page + 1))) { "Next →" } }
        }
    }

    static func link(_ request: HTTPRequest, page: Int) -> String {
        var query = request.query.filter { $0.name != "page" }
        query.append(("page", String(page)))
        return request.path + Query.string(query)
    }

    /// A labelled form field with its hint and the slot where the API's error text goes.
    /// `errorNames`: the words in an API error that point at this field (its JSON key).
    static func field(
        _ label: String, id: String, hint: String? = nil, errorNames: String? = nil,
        @HTMLBuilder control: () -> HTML
    ) -> HTML {
        el("div", .class("field")) {
            el("label", .for(id)) { label }
            control()
            if let hint { el("span", .class("hint"), .id(id + "-hint")) { hint } }
            el("p", .class("field-error"), .id(id + "-error"), Attribute("data-error-for", errorNames ?? id),
                Attribute("role", "alert"), .flag("hidden"))
        }
    }

    static func formFooter(@HTMLBuilder _ buttons: () -> HTML) -> HTML {
        el("p", .class("form-error"), Attribute("tabindex", "-1"), Attribute("role", "alert"), .flag("hidden"))
            + el("div", .class("actions")) {
                buttons()
                el("span", .class("form-status"), Attribute("role", "status"))
            }
    }

    static func signInNotice(_ viewer: Viewer, doing: String) -> HTML {
        if viewer.canWrite { return HTML() }
        return el("p", .class("notice")) {
            el("a", .href("/signin")) { "Sign in" }
            " to \(doing)."
        }
    }

    static func number(_ value: JSON?) -> String {
        guard let value else { return "—" }
        if let i = value.intValue, value.doubleValue.map({ $0 == $0.rounded() }) ?? true { return String(i) }
        guard let d = value.doubleValue, d.isFinite else { return "—" }
        return format(d)
    }

    /// A short, locale-free rendering: up to 3 decimals, no exponent for ordinary sizes.
    static func format(_ d: Double) -> String {
        if d == 0 { return "0" }
        let magnitude = abs(d)
        if magnitude >= 1e15 || magnitude < 1e-3 { return "\(d)" }
        let scaled = (d * 1000).rounded() / 1000
        var text = "\(scaled)"
        if text.hasSuffix(".0") { text.removeLast(2) }
        return text
    }

    static func string(_ value: JSON?) -> String {
        guard let value else { return "" }
        switch value {
        case .string(let s): return s
        case .null: return ""
        case .int, .double: return number(value)
        case .bool(let b): return b ? "yes" : "no"
        default: return value.jsonString
        }
    }
}

/// Query strings for links, percent-encoded.
enum Query {
    static func string(_ pairs: [(name: String, value: String)]) -> String {
        let kept = pairs.filter { !$0.value.isEmpty }
        if kept.isEmpty { return "" }
        return "?" + kept.map { PercentEncoding.encode($0.name) + "=" + PercentEncoding.encode($0.value) }
            .joined(separator: "&")
    }

    /// An API target with the request's filter parameters copied over (only `names`).
    static func api(_ path: String, from request: HTTPRequest, keeping names: [String], extra: [(String, String)] = [])
        -> String
    {
        var pairs: [(name: String, value: String)] = []
        for name in names { if let v = request.queryValue(name), !v.isEmpty { pairs.append((name, v)) } }
        for (n, v) in extra { pairs.append((n, v)) }
        return path + string(pairs)
    }

    static func segment(_ id: String) -> String { PercentEncoding.encode(id) }
}
