import KittJSON
import KittStore

// The SQLite repositories' default arguments, for tests that call either backend through the
// repository protocols (protocol requirements cannot have defaults).

extension AgentStoring {
    func register(_ registration: AgentRegistration, tokenAgentID: String?, completion: @escaping Completion<RegisterOutcome>) {
        register(registration, tokenAgentID: tokenAgentID, installTokenHash: nil, installTokenCutoff: "", completion: completion)
    }

    func report(
        agentIDOrName: String, document: ResultDocument?, commandID: String?, testID: String?, finished: Bool,
        completion: @escaping Completion<ReportOutcome>
    ) {
        report(
            agentIDOrName: agentIDOrName, document: document, commandID: commandID, testID: testID, finished: finished,
            failed: false, scoped: false, completion: completion)
    }

    func queueCommand(agentID: String, type: String, payload: JSON) throws -> String {
        try queueCommand(agentID: agentID, type: type, testID: nil, payload: payload)
    }
}

extension AgentAdministering {
    @discardableResult
    func provisionToken(name: String, port: Int, tokenHash: String) throws -> String {
        try provisionToken(name: name, port: port, tokenHash: tokenHash, rotate: true)
    }
}

extension QuickTestStoring {
    /// `QuickTestRepository.setStatus`: the test after the transition.
    func setStatus(id: String, status: QuickTestStatus, error: String?, agentID: String? = nil) throws -> QuickTest? {
        try transition(id: id, to: status, error: error, agentID: agentID)?.test
    }

    func list(status: QuickTestStatus?, agentName: String?, limit: Int, offset: Int) throws -> (items: [QuickTest], total: Int) {
        try list(status: status, agentName: agentName, campaignID: nil, limit: limit, offset: offset)
    }

    func commands(agentID: String) throws -> [AgentCommand] { try commands(agentID: agentID, status: nil) }

    func appendLogAsync(
        testID: String, line: String, limit: QuickTestRepository.LogLimit,
        completion: @escaping @Sendable (Result<String?, any Error>) -> Void
    ) {
        appendLogAsync(testID: testID, line: line, agentID: nil, limit: limit, completion: completion)
    }

    func appendLogAsync(
        testID: String, line: String, agentID: String?, completion: @escaping @Sendable (Result<String?, any Error>) -> Void
    ) {
        appendLogAsync(testID: testID, line: line, agentID: agentID, limit: .standard, completion: completion)
    }
}

extension CampaignStoring {
    func updateConfig(id: String, config: String) throws -> CampaignRepository.ConfigUpdate {
        try updateConfig(id: id, config: config, agentID: nil)
    }
}
