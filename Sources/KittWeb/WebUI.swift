import Dispatch
import KittAPI
import KittHTTP
import KittJSON

/// The browser UI (issue 14): pages outside `/api/`, rendered on the server from the API's
/// own answers, plus `/ui/*` endpoints for sign-in, sign-out and writes.
public struct WebUI: Sendable {
    let context: APIContext
    let bridge: APIBridge
    let sessions: WebSessions
    /// Cookies get `Secure` when the server speaks TLS.
    let secureCookies: Bool
    let features: Features
    /// The server's own configuration rows for the settings page (from `kitt web`).
    let serverFacts: ServerFacts

    /// Where pages wait for their API reads to be started (never an event loop).
    static let queue = DispatchQueue(label: "kitt.web.pages", attributes: .concurrent)

    /// Adds the UI's routes to `router`. `api` is the API router the UI calls in process.
    public static func register(
        in router: inout Router, api: Router, context: APIContext, sessions: WebSessions, secureCookies: Bool,
        serverFacts: ServerFacts = ServerFacts()
    ) {
        let ui = WebUI(
            context: context, bridge: APIBridge(api: api, adminToken: context.auth.adminToken),
            sessions: sessions, secureCookies: secureCookies, features: Features(api: api), serverFacts: serverFacts)
        Assets.register(in: &router)
        ui.registerSession(in: &router)
        ui.registerProxy(in: &router)
        DashboardPage.register(in: &router, ui)
        AgentPages.register(in: &router, ui)
        QuickTestPages.register(in: &router, ui)
        CampaignPages.register(in: &router, ui)
        ResultPages.register(in: &router, ui)
        ModelPages.register(in: &router, ui)
        ProfilePages.register(in: &router, ui)
        SettingsPage.register(in: &router, ui)
    }

    // MARK: Viewer and pages

    func viewer(for request: HTTPRequest) -> Viewer {
        if let id = WebSecurity.cookie(WebSecurity.sessionCookie, in: request), let session = sessions.session(id: id) {
            return Viewer(
                signedIn: true, csrfToken: session.csrfToken, authOff: !context.auth.isEnabled, features: features)
        }
        return Viewer(signedIn: false, csrfToken: "", authOff: !context.auth.isEnabled, features: features)
    }

    /// A page: GETs `reads` from the API as the viewer (admin when signed in), then renders.
    /// `detail`: the page shows the record of its first read, so a 404 there is the page's status.
    /// `then`: reads that depend on the first answers (their answers follow in the same array).
    func page(
        _ request: HTTPRequest, title: String, section: Section?, detail: Bool = false, live: [String] = [],
        reads: [APIBridge.Read], then: (@Sendable ([APIBridge.Answer]) -> [APIBridge.Read])? = nil,
        render: @escaping @Sendable (Viewer, [APIBridge.Answer]) -> HTML
    ) -> HTTPResponse {
        let viewer = viewer(for: request)
        let host = request.headers["Host"]
        let bridge = self.bridge
        return .deferred { promise in
            let finish: @Sendable ([APIBridge.Answer]) -> Void = { answers in
                let content = render(viewer, answers)
                let document = Layout.document(title: title, section: section, viewer: viewer, live: live, content: content)
                // A detail page whose record is missing answers 404 (its first read said so).
                let missing = detail && answers.first?.status == 404
                promise.succeed(WebUI.html(document, status: missing ? .notFound : .ok))
            }
            WebUI.queue.async {
                bridge.readAll(reads, asAdmin: viewer.signedIn, host: host) { first in
                    guard let then else { return finish(first) }
                    let more = then(first)
                    // Not on the store's completion queue: the next reads start from the UI's own queue.
                    WebUI.queue.async {
                        bridge.readAll(more, asAdmin: viewer.signedIn, host: host) { second in finish(first + second) }
                    }
                }
            }
        }
    }

    /// True when `Accept` names JSON and not HTML (curl's `*/*` and browsers get the page).
    static func prefersJSON(_ request: HTTPRequest) -> Bool {
        guard let accept = request.headers["Accept"]?.lowercased() else { return false }
        return accept.contains("application/json") && !accept.contains("text/html")
    }

    static func html(_ document: HTML, status: HTTPStatus = .ok) -> HTTPResponse {
        var response = HTTPResponse.text(document.markup, contentType: "text/html; charset=utf-8", status: status)
        WebSecurity.addPageHeaders(&response.headers)
        response.headers.add(name: "Cache-Control", value: "no-store")
        return response
    }

    // MARK: Sign-in, sign-out

    private func registerSession(in router: inout Router) {
        router.get("/signin") { request in
            let viewer = viewer(for: request)
            let token = WebSessions.randomToken()
            let form = SignInPage.render(signedIn: viewer.signedIn, authOff: viewer.authOff)
            var response = WebUI.html(
                Layout.document(
                    title: "Sign in", section: nil,
                    viewer: Viewer(signedIn: viewer.signedIn, csrfToken: viewer.signedIn ? viewer.csrfToken : token,
                        authOff: viewer.authOff, features: features),
                    live: [], content: form))
            if !viewer.signedIn {
                response.headers.add(
                    name: "Set-Cookie",
                    value: WebSecurity.setCookie(WebSecurity.signInCookie, token, maxAge: 3600, secure: secureCookies))
            }
            return response
        }

        // JSON {"token"} with the double-submit CSRF header → a session cookie.
        router.post("/ui/signin") { request in
            guard let expected = WebSecurity.cookie(WebSecurity.signInCookie, in: request),
                WebSecurity.csrfMatches(request, expected: expected)
            else { throw HTTPError.forbidden("missing or wrong CSRF token: reload the sign-in page") }
            let body = try? JSON(parsing: request.body)
            guard let token = body?["token"]?.stringValue else {
                throw HTTPError.badRequest("'token' is required: paste the admin token")
            }
            if let admin = context.auth.adminToken {
                guard Auth.constantTimeEquals(String(Substring(token).trimmingSpaces()), admin) else {
                    throw HTTPError.forbidden("that 'token' is not the admin token")
                }
            }
            let secure = secureCookies
            return .deferred { promise in
                sessions.create { result in
                    switch result {
                    case .failure(let error):
                        promise.fail(error)
                    case .success(let issued):
                        var response = HTTPResponse.json(["signed_in": true])
                        response.headers.add(
                            name: "Set-Cookie",
                            value: WebSecurity.setCookie(
                                WebSecurity.sessionCookie, issued.id, maxAge: Int(issued.lifetime), secure: secure))
                        response.headers.add(
                            name: "Set-Cookie",
                            value: WebSecurity.setCookie(WebSecurity.signInCookie, "", maxAge: 0, secure: secure))
                        promise.succeed(response)
                    }
                }
            }
        }

        router.post("/ui/signout") { request in
            let (id, _) = try requireSession(request)
            let secure = secureCookies
            return .deferred { promise in
                sessions.end(id: id) {
                    var response = HTTPResponse.json(["signed_out": true])
                    response.headers.add(
                        name: "Set-Cookie", value: WebSecurity.setCookie(WebSecurity.sessionCookie, "", maxAge: 0, secure: secure))
                    promise.succeed(response)
                }
            }
        }
    }

    /// A write from the UI: a live session and its CSRF token in the header, else 401/403.
    func requireSession(_ request: HTTPRequest) throws(HTTPError) -> (id: String, session: WebSessions.Session) {
        guard let id = WebSecurity.cookie(WebSecurity.sessionCookie, in: request), let session = sessions.session(id: id)
        else { throw HTTPError.unauthorized("sign in first: this needs a session") }
        guard WebSecurity.csrfMatches(request, expected: session.csrfToken) else {
            throw HTTPError.forbidden("missing or wrong CSRF token: reload the page")
        }
        return (id, session)
    }

    // MARK: Writes through the API

    /// `/ui/api/v1/...` → `/api/v1/...` as the admin, for signed-in writes (and the few reads
    /// the forms make). The browser's own Authorization header is never passed on.
    private func registerProxy(in router: inout Router) {
        let handler: Handler = { request in
            // "/ui/api/v1/x?y" → "/api/v1/x?y" (from the path, so an absolute-form target works too).
            let path = String(request.path.dropFirst(3))
            guard request.path.hasPrefix("/ui/api/v1/") else { throw HTTPError.notFound("no route for \(request.path)") }
            let query = request.target.firstIndex(of: "?").map { String(request.target[$0...]) } ?? ""
            let target = path + query
            let asAdmin: Bool
            if request.method == .get || request.method == .head {
                asAdmin = viewer(for: request).signedIn
            } else {
                _ = try requireSession(request)
                asAdmin = true
            }
            let inner = bridge.request(
                request.method, target, body: request.body, asAdmin: asAdmin, host: request.headers["Host"])
            let bridge = self.bridge
            return .deferred { promise in
                WebUI.queue.async { bridge.respond(to: inner) { promise.succeed($0) } }
            }
        }
        for method in [HTTPMethod.get, .post, .put, .patch, .delete] {
            router.add(method, "/ui/api/*rest", handler)
        }
    }
}
