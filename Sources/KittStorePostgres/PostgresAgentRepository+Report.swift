import KittStore
import KittPostgres

extension PostgresAgentRepository {
    /// An agent's report, as `AgentRepository.report`: the result stored, the quick test
    /// linked to it and the command finished, in one transaction; completion after COMMIT.
    /// The command's UPDATE only matches an open command, so of two reports racing on two
    /// instances, one finishes it (and reports `finishedCommand`), the other finds it done.
    public func report(
        agentIDOrName: String, document: ResultDocument?, commandID: String?, testID: String?, finished: Bool,
        failed: Bool = false, scoped: Bool = false, completion: @escaping Completion<ReportOutcome>
    ) {
        store.transactionAsync({ connection -> ReportOutcome in
            guard let agent = try PostgresAgentRepository.identity(connection, idOrName: agentIDOrName) else {
                throw AgentStoreError.notFound
            }
            if scoped {
                try PostgresAgentRepository.requireOwnWork(connection, agentID: agent.id, testID: testID, commandID: commandID)
            }
            var resultID: String?
            if let document {
                let id = StoreID.make()
                try PostgresResultsRepository.insert(document, id: id, into: connection)
                resultID = id
                for key in [testID, commandID].compactMap({ $0 }) {
                    try connection.run(
                        "UPDATE quick_tests SET result_id = $1 WHERE id = $2 OR command_id = $2", [.text(id), .text(key)])
                }
            }
            var finishedCommand: FinishedCommand?
            if let commandID, document != nil || finished {
                let status: CommandStatus = failed ? .failed : .done
                let row = try connection.queryOne(
                    """
                    UPDATE agent_commands SET status = $1
                    WHERE id = $2 AND agent_id = $3 AND status IN ('queued', 'dispatched')
                    RETURNING type, test_id
                    """, [.text(status.rawValue), .text(commandID), .text(agent.id)])
                if let row, row.isNull(1), let type = row.string(0) {
                    finishedCommand = FinishedCommand(id: commandID, type: type, agentID: agent.id, status: status)
                }
            }
            var reportedTest = testID
            if reportedTest == nil, let commandID {
                reportedTest = try connection.queryOne(
                    "SELECT id FROM quick_tests WHERE command_id = $1", [.text(commandID)])?.string(0)
            }
            return ReportOutcome(resultID: resultID, testID: reportedTest, finishedCommand: finishedCommand)
        }, completion: { [store] result in
            if case .success(let outcome) = result, outcome.resultID != nil {
                PostgresResultsRepository.countChange(store.pool)
            }
            completion(result)
        })
    }

    /// `testID` and `commandID` (when given) are `agentID`'s, else `.unknownWork`.
    static func requireOwnWork(_ connection: PostgresConnection, agentID: String, testID: String?, commandID: String?)
        throws
    {
        if let testID {
            let owner = try connection.queryOne("SELECT agent_id FROM quick_tests WHERE id = $1", [.text(testID)])?
                .string(0)
            guard owner == agentID else { throw AgentStoreError.unknownWork(field: "test_id", value: testID) }
        }
        if let commandID {
            let owner =
                try connection.queryOne("SELECT agent_id FROM agent_commands WHERE id = $1", [.text(commandID)])?
                .string(0)
                ?? connection.queryOne("SELECT agent_id FROM quick_tests WHERE command_id = $1", [.text(commandID)])?
                .string(0)
            guard owner == agentID else { throw AgentStoreError.unknownWork(field: "command_id", value: commandID) }
        }
    }
}
