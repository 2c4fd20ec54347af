import KittAPI
import KittHTTP
import KittJSON
import KittNet
import KittStore
import KittTestSupport
import Testing

@testable import KittWeb

/// The UI's routes in process, on top of the real API router: pages, headers, sign-in,
/// CSRF and the write proxy.
final class WebHarness: @unchecked Sendable {
    let api: APIHarness
    let router: Router
    let sessions: WebSessions

    /// `extend` adds routes to the API router first (to stand in for optional API routes).
    init(
        extend: (inout Router) -> Void = { _ in }, configure: (inout APISettings) -> Void = { _ in },
        serverFacts: ServerFacts = ServerFacts()
    ) throws {
        api = try APIHarness(configure: configure)
        sessions = try WebSessions(store: api.store)
        var apiRouter = api.router
        extend(&apiRouter)
        var router = apiRouter
        WebUI.register(
            in: &router, api: apiRouter, context: api.context, sessions: sessions, secureCookies: true,
            serverFacts: serverFacts)
        self.router = router
    }

    func call(_ method: HTTPMethod, _ target: String, body: String = "", headers: [(String, String)] = []) -> TestResponse {
        var fields = HTTPHeaders()
        fields.add(name: "Host", value: "localhost")
        for (name, value) in headers { fields.add(name: name, value: value) }
        let request = HTTPRequest(method: method, target: target, headers: fields, body: Array(body.utf8))
        return APIHarness.resolve(router.respond(to: request))
    }

    /// Signs in through the form's endpoint; returns the session cookie and CSRF token.
    func signIn() throws -> (cookie: String, csrf: String) {
        let form = call(.get, "/signin")
        let preCookie = try #require(form.headers["Set-Cookie"]?.split(separator: ";").first.map(String.init))
        let preToken = String(preCookie.dropFirst("kitt_signin=".count))
        #expect(form.text.contains("content=\"\(preToken)\""))
        let response = call(.post, "/ui/signin", body: "{\"token\":\"\(api.token)\"}",
            headers: [("Cookie", preCookie), ("X-CSRF-Token", preToken), ("Content-Type", "application/json")])
        #expect(response.status == 200, "\(response.text)")
        let setCookie = try #require(response.headers.values(for: "Set-Cookie").first { $0.hasPrefix("kitt_session=") })
        for flag in ["HttpOnly", "SameSite=Strict", "Secure", "Max-Age=604800", "Path=/"] {
            #expect(setCookie.contains(flag), "\(setCookie)")
        }
        let cookie = String(setCookie.split(separator: ";")[0])
        let id = String(cookie.dropFirst("kitt_session=".count))
        let csrf = try #require(sessions.session(id: id)?.csrfToken)
        return (cookie, csrf)
    }
}

@Suite struct WebRouteTests {
    @Test func pagesAreHTMLWithStrictHeaders() throws {
        let web = try WebHarness()
        for path in ["/", "/agents", "/agents/new", "/quicktests", "/quicktests/new", "/campaigns", "/campaigns/new",
            "/results", "/results/compare", "/results/aggregate", "/models", "/models?q=llama", "/profiles", "/profiles/new", "/signin"]
        {
            let page = web.call(.get, path)
            #expect(page.status == 200, "\(path)")
            #expect(page.headers["Content-Type"] == "text/html; charset=utf-8", "\(path)")
            let csp = page.headers["Content-Security-Policy"] ?? ""
            #expect(csp.contains("default-src 'self'") && csp.contains("frame-ancestors 'none'") && csp.contains("script-src 'self'"))
            #expect(!csp.contains("unsafe-inline"))
            #expect(page.headers["X-Content-Type-Options"] == "nosniff")
            #expect(page.headers["Referrer-Policy"] == "same-origin")
            #expect(page.text.hasPrefix("<!doctype html>"))
            // No inline script: the only <script> is the hashed asset.
            #expect(page.text.components(separatedBy: "<script").count == 2, "\(path)")
            #expect(!page.text.contains(" style="), "\(path)")
        }
        #expect(web.call(.get, "/agents/0123456789abcdef").status == 404)
    }

    @Test func optionalAPIRoutesDecideWhatIsOffered() throws {
        let bare = Features(api: Router())
        #expect(!bare.engineProfiles && !bare.rotateToken)
        var stub = Router()
        stub.get("/api/v1/engines/profiles") { _ in .json(["profiles": []]) }
        stub.post("/api/v1/agents/:id/rotate-token") { _ in .json(["token": "t"]) }
        let stubbed = Features(api: stub)
        #expect(stubbed.engineProfiles && stubbed.rotateToken)
    }

    @Test func engineProfilesAndTokenRotationAreOfferedWithTheAPI() throws {
        let web = try WebHarness()
        let registered = web.api.admin(.post, "/api/v1/agents/register", json: ["name": "gpu-c", "hostname": "h"])
        let agentID = try #require(registered.json?["agent_id"]?.stringValue)
        let profile = web.api.admin(.post, "/api/v1/engines/profiles", json: ["name": "fast <b>", "engine": "vllm"])
        #expect(profile.status == 201, "\(profile.text)")
        let profileID = try #require(profile.json?["id"]?.stringValue)
        let (cookie, _) = try web.signIn()
        #expect(web.call(.get, "/", headers: [("Cookie", cookie)]).text.contains("href=\"/profiles\""))
        #expect(web.call(.get, "/agents/\(agentID)", headers: [("Cookie", cookie)]).text.contains("/rotate-token"))
        #expect(web.call(.get, "/profiles").text.contains("fast &lt;b&gt;"))
        #expect(web.call(.get, "/profiles/\(profileID)").status == 200)
        #expect(web.call(.get, "/quicktests/new").text.contains("<option value=\"\(profileID)\">fast &lt;b&gt; (vllm)</option>"))
    }

    @Test func rootServesBrowsersTheDashboardAndJSONClientsTheAPI() throws {
        let web = try WebHarness { api in
            api.get("/") { _ in .json(["api": "/api/v1/"]) }
        }
        let browser = web.call(.get, "/", headers: [("Accept", "text/html,application/xhtml+xml,*/*;q=0.8")])
        #expect(browser.headers["Content-Type"] == "text/html; charset=utf-8")
        #expect(web.call(.get, "/").text.hasPrefix("<!doctype html>"))
        let script = web.call(.get, "/", headers: [("Accept", "application/json")])
        #expect(script.json?["api"]?.stringValue == "/api/v1/")
    }

    @Test func assetsAreHashedAndCachedForever() throws {
        let web = try WebHarness()
        let page = web.call(.get, "/").text
        for asset in [Assets.style, Assets.script] {
            #expect(page.contains(asset.path))
            let response = web.call(.get, asset.path)
            #expect(response.status == 200)
            #expect(response.headers["Cache-Control"] == "public, max-age=31536000, immutable")
            #expect(response.body == asset.bytes)
            #expect(asset.path.contains(String(SHA256.hex(asset.bytes).prefix(12))))
        }
        #expect(web.call(.get, "/assets/app.000000000000.js").status == 404)
    }

    @Test func signInNeedsTheAdminTokenAndTheFormToken() throws {
        let web = try WebHarness()
        let form = web.call(.get, "/signin")
        let preCookie = try #require(form.headers["Set-Cookie"]?.split(separator: ";").first.map(String.init))
        let preToken = String(preCookie.dropFirst("kitt_signin=".count))
        let json = ("Content-Type", "application/json")
        // Without the double-submit token: refused before the token is even looked at.
        let noCSRF = web.call(.post, "/ui/signin", body: "{\"token\":\"\(web.api.token)\"}", headers: [("Cookie", preCookie), json])
        #expect(noCSRF.status == 403)
        let wrong = web.call(.post, "/ui/signin", body: "{\"token\":\"nope\"}",
            headers: [("Cookie", preCookie), ("X-CSRF-Token", preToken), json])
        #expect(wrong.status == 403)
        #expect(wrong.json?["error"]?.stringValue?.contains("not the admin token") == true)
        #expect(web.sessions.count == 0)
        _ = try web.signIn()
        #expect(web.sessions.count == 1)
    }

    @Test func writesNeedASessionAndItsCSRFToken() throws {
        let web = try WebHarness()
        let registered = web.api.admin(.post, "/api/v1/agents/register", json: ["name": "gpu-a", "hostname": "h"])
        let agentID = try #require(registered.json?["agent_id"]?.stringValue)
        let target = "/ui/api/v1/agents/\(agentID)"
        let body = "{\"notes\":\"from the UI\"}"
        let json = ("Content-Type", "application/json")
        // No session: 401. A forged Authorization header is not passed on.
        #expect(web.call(.patch, target, body: body, headers: [json, ("Authorization", "Bearer \(web.api.token)")]).status == 401)
        let (cookie, csrf) = try web.signIn()
        #expect(web.call(.patch, target, body: body, headers: [json, ("Cookie", cookie)]).status == 403)
        #expect(web.call(.patch, target, body: body, headers: [json, ("Cookie", cookie), ("X-CSRF-Token", "x" + csrf)]).status == 403)
        #expect(web.api.admin(.get, "/api/v1/agents/\(agentID)").json?["notes"]?.stringValue == "")
        let ok = web.call(.patch, target, body: body, headers: [json, ("Cookie", cookie), ("X-CSRF-Token", csrf)])
        #expect(ok.status == 200, "\(ok.text)")
        #expect(web.api.admin(.get, "/api/v1/agents/\(agentID)").json?["notes"]?.stringValue == "from the UI")
        // The API's own validation and error text come back unchanged.
        let bad = web.call(.put, target + "/settings", body: "{\"heartbeat_interval_s\": 5}",
            headers: [json, ("Cookie", cookie), ("X-CSRF-Token", csrf)])
        #expect(bad.status == 400)
        #expect(bad.json?["error"]?.stringValue?.contains("heartbeat_interval_s") == true)
        // An absolute-form target reaches the same API route.
        let absolute = web.call(.patch, "https://localhost/ui/api/v1/agents/\(agentID)?x=1", body: "{\"notes\":\"abs\"}",
            headers: [json, ("Cookie", cookie), ("X-CSRF-Token", csrf)])
        #expect(absolute.status == 200, "\(absolute.text)")
        // Only /ui/api/v1/ reaches the API.
        #expect(web.call(.post, "/ui/api/health", headers: [("Cookie", cookie), ("X-CSRF-Token", csrf)]).status == 404)

        // Sign-out ends the session: the same cookie and token no longer write.
        #expect(web.call(.post, "/ui/signout", headers: [("Cookie", cookie), ("X-CSRF-Token", csrf)]).status == 200)
        #expect(web.call(.patch, target, body: body, headers: [json, ("Cookie", cookie), ("X-CSRF-Token", csrf)]).status == 401)
    }

    @Test func readsFollowTheAPIsRules() throws {
        let web = try WebHarness()
        // Aggregate needs auth in the API, so the page asks to sign in; signed in, it shows.
        let anonymous = web.call(.get, "/results/aggregate")
        #expect(anonymous.text.contains("sign in"))
        let (cookie, _) = try web.signIn()
        let signedIn = web.call(.get, "/results/aggregate", headers: [("Cookie", cookie)])
        #expect(!signedIn.text.contains("error-box"), "\(signedIn.text)")
        #expect(signedIn.text.contains("Nothing to aggregate yet"))
    }

    @Test func hostileValuesRenderAsText() throws {
        let web = try WebHarness()
        let hostile = "<script>alert(1)</script>\"'><img src=x onerror=alert(2)>"
        let registered = web.api.admin(.post, "/api/v1/agents/register", json: ["name": "gpu-b", "hostname": .string(hostile)])
        let agentID = try #require(registered.json?["agent_id"]?.stringValue)
        #expect(web.api.admin(.patch, "/api/v1/agents/\(agentID)", json: ["notes": .string(hostile), "tags": [.string(hostile)]]).status == 200)
        let page = web.call(.get, "/agents/\(agentID)").text
        #expect(!page.contains("<script>alert"))
        #expect(!page.contains("<img src=x"))
        #expect(page.contains("&lt;script&gt;alert(1)&lt;/script&gt;&quot;&#39;&gt;&lt;img src=x onerror=alert(2)&gt;"))
    }
}
