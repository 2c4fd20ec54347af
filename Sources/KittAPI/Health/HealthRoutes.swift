import KittHTTP
import KittJSON

/// Health and version (SPEC §5): unauthenticated, cheap, precomputed.
enum HealthRoutes {
    static func register(in router: inout Router, context: APIContext) {
        let version = context.settings.version
        let health = HTTPResponse.json(["status": "ok"])
        let versionBody = HTTPResponse.json(
            .object(JSONObject([("version", .string(version)), ("api_version", "v1"), ("name", "KITT")])))
        let legacyHealth = HTTPResponse.json(.object(JSONObject([("status", "ok"), ("version", .string(version))])))
        router.get("/api/v1/health") { _ in health }
        router.get("/api/v1/version") { _ in versionBody }
        router.get("/api/health") { _ in legacyHealth }
    }
}
