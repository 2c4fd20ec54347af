import KittHTTP
import KittJSON

/// `GET /`, `GET /api/v1/` (links a newcomer can follow) and `GET /api/v1/openapi.json`.
enum ReferenceRoutes {
    static func register(in router: inout Router, context: APIContext) {
        let index = HTTPResponse.json(
            .object(
                JSONObject([
                    ("name", "kitt"), ("version", .string(context.settings.version)), ("api", "/api/v1/"),
                    ("openapi", "/api/v1/openapi.json"),
                    ("reference", "docs/API.md in the kitt source tree (kitt openapi --markdown)"),
                    ("health", "/api/v1/health"), ("metrics", "/metrics"),
                    // Browsers asking for `/` get the web UI there (KittWeb answers Accept: text/html).
                    ("web_ui", "/"),
                ])))
        let openAPI = HTTPResponse.json(OpenAPIDocument.make(version: context.settings.version))
        router.get("/") { _ in index }
        router.get("/api/v1") { _ in index }
        router.get("/api/v1/openapi.json") { _ in openAPI }
    }
}
