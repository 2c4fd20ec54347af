import KittHTTP
import KittJSON
import KittStore

/// `POST /api/v1/agents/<id>/rotate-token` (admin; SPEC §7.1): a new agent token, shown once.
/// Only its SHA-256 is stored, so the old token stops working when the write commits.
enum AgentTokenRoutes {
    /// How much of a token is shown as its `token_prefix` (KITT shows the first 8 characters).
    static let prefixLength = 8

    static func register(in router: inout Router, context: APIContext, services: Services) {
        // No body. → 200 `{"token": "<64 hex>", "token_prefix": "<first 8>"}`; 404 unknown agent.
        router.post("/api/v1/agents/:id/rotate-token") { request in
            try context.auth.requireAdmin(request)
            let idOrName = request.parameter("id")
            let token = AgentToken.make()
            return .committed({
                services.agents.rotateToken(idOrName: idOrName, tokenHash: agentTokenHash(token), completion: $0)
            }) { rotated in
                guard rotated else { throw HTTPError.notFound("agent not found") }
                return .json(
                    .object(
                        JSONObject([
                            ("token", .string(token)), ("token_prefix", .string(String(token.prefix(prefixLength)))),
                        ])))
            }
        }
    }
}
