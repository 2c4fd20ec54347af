import KittSQLite

/// One engine as an agent last reported it in a heartbeat.
public struct ReportedEngine: Sendable, Equatable {
    public var agentID: String
    public var engine: AgentEngine
    /// When the agent last reported it (ISO 8601).
    public var updatedAt: String
}

extension AgentRepository {
    /// Every engine every agent reported, by agent id then engine name (`GET /engines/status`).
    public func reportedEngines() throws -> [ReportedEngine] {
        try database.read { connection in
            try connection.query(
                """
                SELECT agent_id, engine, installed, running, version, binary_path, updated_at
                FROM agent_engines ORDER BY agent_id, engine
                """
            ).map(AgentRepository.reportedEngine)
        }
    }

    /// One agent's engines by name.
    static func reportedEngines(_ connection: Connection, agentID: String) throws -> [ReportedEngine] {
        try connection.query(
            """
            SELECT agent_id, engine, installed, running, version, binary_path, updated_at
            FROM agent_engines WHERE agent_id = ? ORDER BY engine
            """, [.text(agentID)]
        ).map(reportedEngine)
    }

    /// `agent_id, engine, installed, running, version, binary_path, updated_at`.
    static func reportedEngine(_ row: Row) -> ReportedEngine {
        ReportedEngine(
            agentID: row.string(0) ?? "",
            engine: AgentEngine(
                engine: row.string(1) ?? "", installed: row.bool(2) ?? false, running: row.bool(3) ?? false,
                version: row.string(4) ?? "", binaryPath: row.string(5) ?? ""),
            updatedAt: row.string(6) ?? "")
    }
}
