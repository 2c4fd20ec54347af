import KittSQLite

extension Schema {
    /// Every request an agent makes with its own token looks the agent up by the token's hash
    /// (`AgentRepository.identity(tokenHash:)`, `lower(token_hash) = ?`: KITT 1.x stored some
    /// hashes in capitals). Without an index that was a scan of every agent per heartbeat and
    /// report: O(agents) per request, in a 500-GPU lab 500 rows each time. PostgreSQL's schema
    /// has had this index from its first migration.
    public static let v13AgentTokenIndex = Migration(
        version: 13, name: "agents by token hash",
        sql: "CREATE INDEX agents_token_hash ON agents(lower(token_hash));")
}
