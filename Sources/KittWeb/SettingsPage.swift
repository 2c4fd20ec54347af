import KittAPI
import KittHTTP
import KittJSON
import KittNet

/// What the server was started with, as label/value rows the settings page shows. Built by
/// `kitt web` from its options (listen address, TLS, limits, timeouts): never a secret.
public struct ServerFacts: Sendable {
    public var rows: [Row] = []

    public struct Row: Sendable {
        public let label: String
        public let value: String
        public init(_ label: String, _ value: String) {
            self.label = label
            self.value = value
        }
    }

    public init(_ rows: [Row] = []) { self.rows = rows }
}

/// `/settings` (signed in): the server's configuration, never its secrets, and the admin's
/// browser sessions with revoke and "sign out everywhere".
enum SettingsPage {
    static func register(in router: inout Router, _ ui: WebUI) {
        router.get("/settings") { request in
            let viewer = ui.viewer(for: request)
            let current = WebSecurity.cookie(WebSecurity.sessionCookie, in: request)
            let content: HTML
            if viewer.signedIn {
                content = UI.pageHead("Settings")
                    + configuration(ui)
                    + sessions(ui.sessions.list(currentID: current))
            } else {
                content = UI.pageHead("Settings") + UI.signInNotice(viewer, doing: "see the server's settings and sessions")
            }
            return WebUI.html(Layout.document(title: "Settings", section: .settings, viewer: viewer, live: [], content: content))
        }

        // Ends the sessions named in {"sessions": [handle...]}, or every one with {"all": true}.
        router.post("/ui/sessions/revoke") { request in
            _ = try ui.requireSession(request)
            let body = try? JSON(parsing: request.body)
            let handles: [String]?
            if body?["all"]?.boolValue == true {
                handles = nil
            } else if let list = body?["sessions"]?.arrayValue, !list.isEmpty, list.allSatisfy({ $0.stringValue != nil }) {
                handles = list.compactMap(\.stringValue)
            } else {
                throw HTTPError.badRequest("'sessions' (a list of session handles) or 'all': true is required")
            }
            let secure = ui.secureCookies
            let ownHash = WebSecurity.cookie(WebSecurity.sessionCookie, in: request).map { SHA256.hex($0) }
            let signedOut = handles == nil || handles?.contains { $0 == ownHash } == true
            return .deferred { promise in
                ui.sessions.end(handles: handles) { count in
                    var response = HTTPResponse.json(["revoked": .int(count), "signed_out": .bool(signedOut)])
                    if signedOut {
                        response.headers.add(
                            name: "Set-Cookie",
                            value: WebSecurity.setCookie(WebSecurity.sessionCookie, "", maxAge: 0, secure: secure))
                    }
                    promise.succeed(response)
                }
            }
        }
    }

    static func configuration(_ ui: WebUI) -> HTML {
        let settings = ui.context.settings
        var rows: [ServerFacts.Row] = [
            .init("Version", settings.version),
            .init("Public URL", settings.publicURL),
            .init("Data directory", settings.dataDirectory),
            .init("Model directory", settings.modelDirectory),
            .init("Admin token", ui.context.auth.isEnabled ? "required for writes" : "off (--insecure): every request is allowed"),
            .init("Web sessions last", duration(ui.sessions.lifetime)),
            .init("Agents offline after", duration(settings.agentOfflineAfterSeconds)),
            .init("Quick test timeout", duration(settings.quickTestTimeoutSeconds)),
            .init("Unused install tokens expire after", duration(settings.provisionExpirySeconds)),
            .init("SSE keep-alive every", duration(settings.sseKeepaliveSeconds)),
            .init("GET /metrics", settings.metricsToken == nil ? "open" : "needs its bearer token (--metrics-token)"),
            .init("Devon", settings.devonURL == nil ? "not configured (--devon-url)" : "configured"),
            .init("Devon API key", settings.devonAPIKey == nil ? "not set" : "set"),
        ]
        rows += ui.serverFacts.rows
        return el("section", .class("panel"), .id("server-settings"), Attribute("aria-labelledby", "h-server")) {
            el("h2", .id("h-server")) { "Server" }
            el("dl", .class("facts")) {
                for row in rows {
                    el("dt") { row.label }
                    el("dd") { row.value.isEmpty ? "—" : row.value }
                }
            }
            el("p", .class("muted small")) {
                "These come from the flags and environment kitt web was started with (see kitt web --help); "
                "change them there and restart."
            }
        }
    }

    static func sessions(_ sessions: [WebSessions.Listed]) -> HTML {
        el("section", .class("panel"), .id("web-sessions"), Attribute("aria-labelledby", "h-sessions")) {
            el("div", .class("page-head")) {
                el("h2", .id("h-sessions")) { "Signed-in browsers" }
                el("div", .class("actions")) {
                    el("button", .type("button"), .class("danger"), Attribute("data-action", "/ui/sessions/revoke"),
                        Attribute("data-body", "{\"all\":true}"), Attribute("data-then", "/signin"),
                        Attribute("data-confirm", "Sign out every browser, this one too?"),
                        Attribute("data-output", "sessions-output")) { "Sign out everywhere" }
                }
            }
            el("p", .class("error-box"), .id("sessions-output"), Attribute("role", "alert"), .flag("hidden"))
            el("div", .class("table-wrap")) {
                el("table") {
                    el("thead") {
                        el("tr") {
                            el("th") { "Session" }
                            el("th") { "Signed in" }
                            el("th", .class("hide-narrow")) { "Expires" }
                            el("th") { el("span", .class("muted")) { "Actions" } }
                        }
                    }
                    el("tbody") {
                        for session in sessions {
                            el("tr", Attribute("data-session", String(session.handle.prefix(12)))) {
                                el("td") {
                                    el("code") { String(session.handle.prefix(12)) }
                                    if session.current { " "; el("span", .class("badge s-online")) { "this browser" } }
                                }
                                el("td") { UI.time(iso(session.signedInAt)) }
                                el("td", .class("hide-narrow")) { UI.time(iso(session.expiresAt)) }
                                el("td") {
                                    el("button", .type("button"), .class("secondary"), Attribute("data-action", "/ui/sessions/revoke"),
                                        Attribute("data-body", JSON.object(["sessions": [.string(session.handle)]]).jsonString),
                                        Attribute("data-then", session.current ? "/signin" : "reload"),
                                        Attribute("data-output", "sessions-output")) { "Revoke" }
                                }
                            }
                        }
                    }
                }
            }
        }
    }

    /// Epoch seconds as an ISO time (nil, shown as "—", when out of range).
    static func iso(_ seconds: Double) -> String? {
        guard seconds.isFinite, seconds >= 0, seconds < 1e12 else { return nil }
        return Timestamp.format(seconds: Int(seconds))
    }

    /// Seconds as "90 s", "30 min", "24 h", "7 days".
    static func duration(_ seconds: Double) -> String {
        guard seconds.isFinite, seconds >= 0, seconds < 1e12 else { return "—" }
        let s = Int(seconds.rounded())
        if s % 86_400 == 0, s >= 86_400 * 2 { return "\(s / 86_400) days" }
        if s % 3600 == 0, s >= 3600 { return "\(s / 3600) h" }
        if s % 60 == 0, s >= 60 { return "\(s / 60) min" }
        return "\(s) s"
    }
}
