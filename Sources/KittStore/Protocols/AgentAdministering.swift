/// The agent calls outside the hot path (tokens, settings, sweeps) on either backend.
public protocol AgentAdministering: Sendable {
    typealias Completion<T> = @Sendable (Result<T, any Error>) -> Void

    /// The agent holding the token whose SHA-256 hex is `tokenHash` (any case).
    func identity(tokenHash: String) throws -> AgentIdentity?
    func identity(name: String) throws -> AgentIdentity?
    /// A new token for the agent `name` (a `provisioned` agent when there is none); its id.
    func provisionToken(name: String, port: Int, tokenHash: String, rotate: Bool) throws -> String
    func rotateToken(idOrName: String, tokenHash: String, completion: @escaping Completion<AgentIdentity?>)
    func recordInstallToken(hash: String, port: Int) throws
    func installTokenIsPending(hash: String, createdAfter: String) throws -> Bool
    func unregisteredCount() throws -> Int
    func removeUnregistered(before cutoff: String) throws -> [(id: String, name: String)]
    func update(idOrName: String, notes: String?, tags: [String]?) throws -> Bool
    func settings(idOrName: String) throws -> [(key: String, value: String)]?
    func updateSettings(idOrName: String, _ values: [(key: String, value: String)]) throws -> Bool
    /// Agents whose last heartbeat is older than `cutoff`, now marked offline.
    func markOffline(cutoff: String) throws -> [(id: String, name: String)]
    func reportedEngines() throws -> [ReportedEngine]
}
