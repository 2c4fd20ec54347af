import KittJSON
import KittSQLite

extension AgentRepository {
    /// Replaces the token hash of the agent `idOrName` (an id wins over a name) in one write:
    /// from the commit on, only the new token authenticates as it. Returns the agent, nil when unknown.
    public func rotateToken(
        idOrName: String, tokenHash: String, completion: @escaping Completion<AgentIdentity?>
    ) {
        database.writeAsync({ connection -> AgentIdentity? in
            guard let agent = try AgentRepository.identity(connection, idOrName: idOrName) else { return nil }
            try connection.run(
                "UPDATE agents SET token_hash = ?, updated_at = ? WHERE id = ?",
                [.text(tokenHash), .text(Timestamp.now()), .text(agent.id)])
            return agent
        }, completion: completion)
    }
}
