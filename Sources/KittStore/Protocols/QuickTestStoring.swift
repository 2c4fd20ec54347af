/// Quick tests on either backend (issue 15; logs, commands and the agent summaries are not
/// part of it yet).
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
}
