import KittHTTP
import KittJSON
import Testing

struct RouterTests {
    struct Boom: Error {}

    static func router() -> Router {
        var router = Router()
        router.get("/api/v1/results") { _ in .text("list") }
        router.get("/api/v1/results/aggregate") { _ in .text("aggregate") }
        router.get("/api/v1/results/:id") { request in .text("get \(request.parameter("id"))") }
        router.delete("/api/v1/results/:id") { request in .text("delete \(request.parameter("id"))") }
        router.post("/api/v1/agents/:id/heartbeat") { request in .text("beat \(request.parameter("id"))") }
        router.delete("/api/v1/models/*repo_id") { request in .text("model \(request.parameter("repo_id"))") }
        router.get("/boom") { _ in throw Boom() }
        router.get("/teapot") { _ in throw HTTPError(HTTPStatus(code: 418, reason: "I'm a teapot"), "short and stout") }
        return router
    }

    static func call(_ method: HTTPMethod, _ target: String) -> (status: Int, body: String, headers: HTTPHeaders) {
        let response = router().respond(to: HTTPRequest(method: method, target: target))
        return (response.status.code, String(decoding: response.bodyBytes, as: UTF8.self), response.headers)
    }

    @Test(arguments: [
        ("/api/v1/results", "list"),
        ("/api/v1/results/", "list"),
        ("/api/v1/results/aggregate", "aggregate"),
        ("/api/v1/results/abc123", "get abc123"),
        ("/api/v1/results/abc123/", "get abc123"),
        ("/api/v1/results/a%20b", "get a b"),
    ])
    func resolvesLiteralsBeforeParametersAndIgnoresTrailingSlash(target: String, expected: String) {
        let reply = Self.call(.get, target)
        #expect(reply.status == 200)
        #expect(reply.body == expected)
    }

    @Test func wildcardCapturesTheRestOfThePath() {
        #expect(Self.call(.delete, "/api/v1/models/org/model-7b").body == "model org/model-7b")
        #expect(Self.call(.delete, "/api/v1/models/org%2Fmodel").body == "model org/model")
        #expect(Self.call(.delete, "/api/v1/models/%2e%2e/etc").body == "model ../etc", "decoded: the handler rejects it")
    }

    @Test func unknownPathIs404JSON() {
        let reply = Self.call(.get, "/api/v1/nothing")
        #expect(reply.status == 404)
        #expect(reply.headers["Content-Type"] == "application/json")
        #expect((try? JSON(parsing: reply.body))?["error"]?.stringValue?.contains("/api/v1/nothing") == true)
    }

    @Test func wrongMethodIs405WithAllow() {
        let reply = Self.call(.post, "/api/v1/results/abc")
        #expect(reply.status == 405)
        #expect(reply.headers["Allow"] == "DELETE, GET, HEAD")
        #expect((try? JSON(parsing: reply.body))?["error"] != nil)
        #expect(Self.call(.get, "/api/v1/agents/x/heartbeat").headers["Allow"] == "POST")
    }

    @Test func headUsesTheGetHandler() {
        let reply = Self.call(.head, "/api/v1/results/xyz")
        #expect(reply.status == 200)
        #expect(reply.body == "get xyz")  // the server drops the body and keeps its length
    }

    @Test func malformedPercentEncodingIs400() {
        #expect(Self.call(.get, "/api/v1/results/%zz").status == 400)
    }

    @Test func thrownErrorsBecomeJSON_andUnexpectedOnesSayNothingMore() {
        let boom = Self.call(.get, "/boom")
        #expect(boom.status == 500)
        #expect((try? JSON(parsing: boom.body))?["error"]?.stringValue == "internal server error")
        let teapot = Self.call(.get, "/teapot")
        #expect(teapot.status == 418)
        #expect((try? JSON(parsing: teapot.body))?["error"]?.stringValue == "short and stout")
    }

    @Test func unexpectedErrorsReachTheLogHook() {
        var router = Self.router()
        let seen = Box()
        router.onUnexpectedError = { request, _ in seen.value = request.path }
        _ = router.respond(to: HTTPRequest(method: .get, target: "/boom"))
        #expect(seen.value == "/boom")
    }

    final class Box: @unchecked Sendable { var value = "" }
}

struct HTTPRequestTests {
    @Test func splitsOriginAndAbsoluteFormTargets() {
        let origin = HTTPRequest(method: .get, target: "/a/b?x=1&y=two%20words&z=a+b&flag&x=2")
        #expect(origin.path == "/a/b")
        #expect(origin.queryValue("x") == "1")
        #expect(origin.queryValues("x") == ["1", "2"])
        #expect(origin.queryValue("y") == "two words")
        #expect(origin.queryValue("z") == "a b")
        #expect(origin.queryValue("flag") == "")
        #expect(origin.queryValue("missing") == nil)
        let absolute = HTTPRequest(method: .get, target: "http://example.org:8080/api/v1/health?q=1")
        #expect(absolute.path == "/api/v1/health")
        #expect(absolute.queryValue("q") == "1")
        #expect(HTTPRequest(method: .get, target: "http://example.org").path == "/")
    }

    @Test func keepAliveFollowsVersionAndConnectionHeader() {
        var headers = HTTPHeaders()
        #expect(HTTPRequest(method: .get, target: "/", version: .http11, headers: headers).wantsKeepAlive)
        #expect(!HTTPRequest(method: .get, target: "/", version: .http10, headers: headers).wantsKeepAlive)
        headers.add(name: "Connection", value: "Keep-Alive")
        #expect(HTTPRequest(method: .get, target: "/", version: .http10, headers: headers).wantsKeepAlive)
        headers.set(name: "connection", value: "foo, close")
        #expect(!HTTPRequest(method: .get, target: "/", version: .http11, headers: headers).wantsKeepAlive)
    }

    @Test func headersAreCaseInsensitiveAndOrdered() {
        var headers = HTTPHeaders()
        headers.add(name: "X-Thing", value: "1")
        headers.add(name: "x-thing", value: "2")
        #expect(headers["X-THING"] == "1")
        #expect(headers.values(for: "x-Thing") == ["1", "2"])
        headers.remove(name: "X-thing")
        #expect(headers.count == 0)
    }

    @Test func percentEncodingRoundTripsAndRejectsMalformed() {
        #expect(PercentEncoding.decode("a%2Fb%20c") == "a/b c")
        #expect(PercentEncoding.decode("%zz") == nil)
        #expect(PercentEncoding.decode("%e2%82") == nil, "truncated UTF-8 is rejected")
        let text = "org/model name é'x"
        #expect(PercentEncoding.decode(PercentEncoding.encode(text)) == text)
    }

    /// Metrics and logs label by the matched pattern, never by the raw path (bounded labels).
    @Test func responsesCarryTheMatchedPattern_andTheRegistryListsEveryRoute() {
        let router = RouterTests.router()
        func pattern(_ method: HTTPMethod, _ target: String) -> String? {
            router.respond(to: HTTPRequest(method: method, target: target)).matchedRoute.map { router.patterns[$0] }
        }
        #expect(pattern(.get, "/api/v1/results/abc123") == "/api/v1/results/:id")
        #expect(pattern(.delete, "/api/v1/results/abc123/") == "/api/v1/results/:id")
        #expect(pattern(.head, "/api/v1/results") == "/api/v1/results")
        #expect(pattern(.delete, "/api/v1/models/org/name") == "/api/v1/models/*repo_id")
        #expect(pattern(.get, "/teapot") == "/teapot")  // a thrown error still names its route
        #expect(pattern(.get, "/nowhere") == nil)
        #expect(pattern(.put, "/api/v1/results/abc") == "/api/v1/results/:id")  // 405: the path's pattern
        #expect(router.routes.count == 8)
        #expect(router.routes.contains(RouteEntry(method: .delete, pattern: "/api/v1/models/*repo_id")))
        #expect(Set(router.patterns).count == router.patterns.count)
    }

    /// A route registered again (the web UI's `/` over the API's index) replaces the handler
    /// and stays one entry in the registry.
    @Test func registeringARouteAgain_replacesItsHandler() {
        var router = Router()
        router.get("/") { _ in .text("api index") }
        router.get("/") { _ in .text("web ui") }
        #expect(router.routes == [RouteEntry(method: .get, pattern: "/")])
        #expect(String(decoding: router.respond(to: HTTPRequest(method: .get, target: "/")).bodyBytes, as: UTF8.self) == "web ui")
    }
}
