/// Quick tests on either backend (issue 15).
public protocol QuickTestStoring: Sendable {
    /// Inserts the quick test and its `run_test` agent command in one transaction.
    func create(_ new: NewQuickTest) throws -> QuickTest
    func get(id: String) throws -> QuickTest?
    func find(commandID: String) throws -> QuickTest?
    /// Newest first, filtered; with the total before paging.
    func list(status: QuickTestStatus?, agentName: String?, campaignID: String?, limit: Int, offset: Int) throws
        -> (items: [QuickTest], total: Int)
    func unfinished(startedBefore cutoff: String) throws -> [QuickTest]
    /// A status change happens once: `changed` is false when the test already had it (or is
    /// finished and `status` is not). Nil for an unknown test (or another agent's, with `agentID`).
    func transition(id: String, to status: QuickTestStatus, error: String?, agentID: String?) throws -> StatusTransition?
    /// Appends a log line (trimming the oldest past `limit`); the test's agent id, nil when
    /// the test does not exist (or is another agent's, with `agentID`). After COMMIT.
    func appendLogAsync(
        testID: String, line: String, agentID: String?, limit: QuickTestRepository.LogLimit,
        completion: @escaping @Sendable (Result<String?, any Error>) -> Void)
    /// The log lines in order; nil when the test does not exist.
    func logs(testID: String) throws -> [LogLine]?
    /// An agent's commands, oldest first, optionally only those with `status`.
    func commands(agentID: String, status: CommandStatus?) throws -> [AgentCommand]
    /// The agent with this id, else the one with this name.
    func agent(idOrName: String) throws -> AgentSummary?
    func agents() throws -> [AgentSummary]
}
