import KittHTTP
import KittStore

extension APIContext {
    /// Routes that take an agent token: the check reads the store (`Auth.agentCaller`), so it
    /// runs off the loop, and `respond` — parse, call a service, render — runs after it with
    /// the caller. 401/403 before anything else is looked at.
    func asAgentCaller(
        _ request: HTTPRequest, respond: @escaping @Sendable (AgentCaller) throws -> HTTPResponse
    ) -> HTTPResponse {
        OffLoop.run(store) { [self] in
            try respond(try auth.agentCaller(request, store: store, installTokenExpiry: settings.provisionExpirySeconds))
        }
    }
}
