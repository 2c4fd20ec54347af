import KittHTTP
import KittJSON
import KittStore

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
        // Readiness asks the store (one trivial query, off the loop): a load balancer takes an
        // instance that lost its database out of rotation, while /health stays liveness only.
        let store = context.store
        router.get("/api/v1/ready") { _ in
            .deferred { promise in
                store.perform({ try store.ping() }) { result in
                    switch result {
                    case .success:
                        promise.succeed(.json(.object(JSONObject([
                            ("status", "ready"), ("store", .string(store.backendName)),
                        ]))))
                    case .failure:
                        // Unauthenticated: the database's own error (host, SQL) stays inside.
                        promise.succeed(HTTPError.response(for: HTTPError.serviceUnavailable(
                            "the store does not answer")))
                    }
                }
            }
        }
    }
}
