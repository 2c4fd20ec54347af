import KittHTTP

/// `GET /api/v1/devon/status` → `{"available": bool, "url": "...", "reason"?: "not_configured" |
/// "unreachable"}` (SPEC §7.1), checked against Devon at most every 10 s.
enum DevonRoutes {
    static func register(in router: inout Router, context: APIContext) {
        let status = DevonStatus(settings: context.settings)
        router.get("/api/v1/devon/status") { _ in
            .deferred { promise in status.check { promise.succeed(.json($0.json)) } }
        }
    }
}
