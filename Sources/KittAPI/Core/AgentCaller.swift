import KittHTTP
import KittStore

/// Who called an endpoint that takes an agent token (SPEC §3, §7.2).
public enum AgentCaller: Sendable, Equatable {
    /// The admin token (or auth is off): may act on any agent's work.
    case admin
    /// An agent's own token: acts only as that agent, on its own tests and commands.
    case agent(AgentIdentity)
    /// A token from a nameless install.sh, not bound to an agent yet: only register takes it.
    case installToken(hash: String)

    /// The agent whose work this caller may touch; nil for the admin (anything).
    public var scopedAgentID: String? {
        if case .agent(let agent) = self { return agent.id }
        return nil
    }

    /// The caller may act as the agent `idOrName` (its id or its name): the admin always,
    /// an agent only as itself. Anything else is a 403 — before existence is looked at.
    public func requireActing(as idOrName: String) throws(HTTPError) {
        switch self {
        case .admin: return
        case .agent(let agent):
            guard agent.id == idOrName || agent.name == idOrName else {
                throw HTTPError.forbidden("this token belongs to another agent")
            }
        case .installToken:
            throw HTTPError.forbidden("this install token must first register the agent (POST /api/v1/agents/register)")
        }
    }

    /// Endpoints that have no path agent (quick test logs/status): any bound agent or the admin.
    public func requireBound() throws(HTTPError) {
        if case .installToken = self {
            throw HTTPError.forbidden("this install token must first register the agent (POST /api/v1/agents/register)")
        }
    }
}

extension Auth {
    /// The one agent-token check, used by every route that accepts one: no or malformed
    /// header → 401; the admin token → `.admin`; a token whose SHA-256 is an agent's →
    /// `.agent`; an unexpired nameless install.sh token → `.installToken`; else 403.
    /// Hashes are compared in SQL: the hash of a guess says nothing about the token.
    public func agentCaller(_ request: HTTPRequest, store: any DataStore, installTokenExpiry: Double = 86_400) throws
        -> AgentCaller
    {
        guard let adminToken else { return .admin }
        guard let token = try Auth.bearerToken(of: request) else { throw HTTPError.unauthorized() }
        if Auth.constantTimeEquals(token, adminToken) { return .admin }
        let hash = agentTokenHash(token)
        if let agent = try store.agents.identity(tokenHash: hash) { return .agent(agent) }
        if try store.agents.installTokenIsPending(hash: hash, createdAfter: OfflineRule.cutoff(installTokenExpiry)) {
            return .installToken(hash: hash)
        }
        throw HTTPError.forbidden()
    }
}
