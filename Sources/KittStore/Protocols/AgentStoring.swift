import KittJSON

/// What every agents backend offers (issue 15). The completion-style calls are the ones
/// agents make at a high rate: their completion runs after COMMIT. A heartbeat hands each
/// queued command out exactly once, also with several kitt instances on one database.
public protocol AgentStoring: Sendable {
    typealias Completion<T> = @Sendable (Result<T, any Error>) -> Void

    func register(
        _ registration: AgentRegistration, tokenAgentID: String?, installTokenHash: String?,
        installTokenCutoff: String, completion: @escaping Completion<RegisterOutcome>)
    func heartbeat(
        idOrName: String, _ beat: AgentHeartbeat, offlineCutoff: String,
        completion: @escaping Completion<HeartbeatOutcome>)
    /// An agent's result/status report: result stored, quick test linked, command finished,
    /// one transaction. `scoped`: the test and command must be this agent's.
    func report(
        agentIDOrName: String, document: ResultDocument?, commandID: String?, testID: String?, finished: Bool,
        failed: Bool, scoped: Bool, completion: @escaping Completion<ReportOutcome>)
    /// Queues a command for the agent; the next heartbeat hands it out. Returns its id.
    func queueCommand(agentID: String, type: String, testID: String?, payload: JSON) throws -> String
    /// By id, else by name.
    func identity(idOrName: String) throws -> AgentIdentity?
    func list(limit: Int, offset: Int, offlineCutoff: String) throws -> (total: Int, items: [Agent])
    func get(idOrName: String, offlineCutoff: String) throws -> Agent?
    func delete(idOrName: String) throws -> Bool
}
