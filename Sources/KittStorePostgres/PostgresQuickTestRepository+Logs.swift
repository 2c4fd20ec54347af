import KittStore
import KittJSON
import KittPostgres

/// Quick test logs, commands and the agent summaries on PostgreSQL, as `QuickTestRepository`'s.
extension PostgresQuickTestRepository {
    /// The test's row is locked while its line goes in and old ones go out, so appends
    /// through several instances keep `log_count`/`log_bytes` exact.
    public func appendLogAsync(
        testID: String, line: String, agentID: String? = nil, limit: QuickTestRepository.LogLimit = .standard,
        completion: @escaping @Sendable (Result<String?, any Error>) -> Void
    ) {
        store.transactionAsync({ connection -> String? in
            guard let row = try connection.queryOne(
                "SELECT agent_id, log_count, log_bytes FROM quick_tests WHERE id = $1 FOR UPDATE", [.text(testID)]),
                let owner = row.string(0)
            else { return nil }
            if let agentID, agentID != owner { return nil }
            try connection.run(
                "INSERT INTO quick_test_logs (test_id, line, created_at) VALUES ($1, $2, $3)",
                [.text(testID), .text(line), .text(Timestamp.now())])
            var count = (row.int(1) ?? 0) + 1
            var bytes = (row.int(2) ?? 0) + line.utf8.count
            // Over a limit: the oldest lines go (the new line stays).
            while count > 1, count > limit.lines || bytes > limit.bytes {
                let oldest = try connection.query(
                    "SELECT id, octet_length(line) FROM quick_test_logs WHERE test_id = $1 ORDER BY id LIMIT 32",
                    [.text(testID)]
                ).rows
                var dropped: [PostgresValue] = []
                for old in oldest where count > 1 && (count > limit.lines || bytes > limit.bytes) {
                    guard let id = old.int64(0) else { continue }
                    dropped.append(.integer(id))
                    count -= 1
                    bytes -= old.int(1) ?? 0
                }
                guard !dropped.isEmpty else { break }
                try connection.run(
                    "DELETE FROM quick_test_logs WHERE id IN ("
                        + dropped.indices.map { "$\($0 + 1)" }.joined(separator: ",") + ")", dropped)
            }
            try connection.run(
                "UPDATE quick_tests SET log_count = $1, log_bytes = $2 WHERE id = $3",
                [PostgresValue(count), PostgresValue(max(0, bytes)), .text(testID)])
            return owner
        }, completion: completion)
    }

    public func logs(testID: String) throws -> [LogLine]? {
        try store.pool.transaction(isolation: .repeatableRead) { connection in
            guard try connection.queryOne("SELECT 1 FROM quick_tests WHERE id = $1", [.text(testID)]) != nil else {
                return nil
            }
            return try connection.query(
                "SELECT line, created_at FROM quick_test_logs WHERE test_id = $1 ORDER BY id", [.text(testID)]
            ).rows.map { LogLine.stored(line: $0.string(0) ?? "", createdAt: $0.string(1) ?? "") }
        }
    }

    public func commands(agentID: String, status: CommandStatus? = nil) throws -> [AgentCommand] {
        try store.pool.withConnection { connection in
            var sql = "SELECT id, agent_id, test_id, type, payload, status FROM agent_commands WHERE agent_id = $1"
            var parameters: [PostgresValue] = [.text(agentID)]
            if let status {
                sql += " AND status = $2"
                parameters.append(.text(status.rawValue))
            }
            return try connection.query(sql + " ORDER BY created_at, seq", parameters).rows.map { row in
                AgentCommand.stored(
                    id: row.string(0) ?? "", agentID: row.string(1) ?? "", testID: row.string(2),
                    type: row.string(3) ?? "", payload: row.string(4) ?? "{}",
                    status: CommandStatus(rawValue: row.string(5) ?? ""))
            }
        }
    }

    public func agent(idOrName: String) throws -> AgentSummary? {
        try store.pool.withConnection { connection in
            let sql = "SELECT id, name, cpu_arch, token_hash FROM agents WHERE "
            let row = try connection.queryOne(sql + "id = $1", [.text(idOrName)])
                ?? connection.queryOne(sql + "name = $1", [.text(idOrName)])
            return row.map(PostgresQuickTestRepository.decodeAgent)
        }
    }

    public func agents() throws -> [AgentSummary] {
        try store.pool.withConnection { connection in
            try connection.query("SELECT id, name, cpu_arch, token_hash FROM agents ORDER BY name").rows
                .map(PostgresQuickTestRepository.decodeAgent)
        }
    }

    static func decodeAgent(_ row: PostgresRow) -> AgentSummary {
        AgentSummary.stored(
            id: row.string(0) ?? "", name: row.string(1) ?? "", cpuArch: row.string(2) ?? "", tokenHash: row.string(3))
    }
}
