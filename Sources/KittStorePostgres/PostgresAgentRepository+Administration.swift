import KittStore
import KittJSON
import KittPostgres

/// Tokens, settings and sweeps on PostgreSQL, as `AgentRepository`'s.
extension PostgresAgentRepository: AgentAdministering {
    public func identity(tokenHash: String) throws -> AgentIdentity? {
        try store.pool.withConnection { connection in
            try connection.queryOne(
                "SELECT \(PostgresAgentRepository.identityColumns) FROM agents WHERE lower(token_hash) = $1",
                [.text(tokenHash.lowercased())]
            ).map(PostgresAgentRepository.identity)
        }
    }

    public func identity(name: String) throws -> AgentIdentity? {
        try store.pool.withConnection { connection in
            try connection.queryOne(
                "SELECT \(PostgresAgentRepository.identityColumns) FROM agents WHERE name = $1", [.text(name)]
            ).map(PostgresAgentRepository.identity)
        }
    }

    /// `rotate` false: an agent called `name` that exists by the time of the write is
    /// `.forbidden`; two instances racing to create it meet on the name's unique index, and
    /// the loser is `.forbidden` too.
    @discardableResult
    public func provisionToken(name: String, port: Int, tokenHash: String, rotate: Bool = true) throws -> String {
        try store.pool.transaction { connection in
            let now = Timestamp.now()
            if try connection.queryOne("SELECT 1 FROM agents WHERE id = $1", [.text(name)]) != nil {
                throw AgentStoreError.nameIsAnID
            }
            if let id = try connection.queryOne("SELECT id FROM agents WHERE name = $1 FOR UPDATE", [.text(name)])?
                .string(0)
            {
                guard rotate else { throw AgentStoreError.forbidden }
                try connection.run(
                    "UPDATE agents SET token_hash = $1, updated_at = $2 WHERE id = $3",
                    [.text(tokenHash), .text(now), .text(id)])
                return id
            }
            guard let id = try connection.queryOne(
                """
                INSERT INTO agents (id, name, port, status, token_hash, registered_at, updated_at)
                VALUES ($1, $2, $3, 'provisioned', $4, $5, $5) ON CONFLICT (name) DO NOTHING RETURNING id
                """, [.text(StoreID.make()), .text(name), PostgresValue(port), .text(tokenHash), .text(now)])?.string(0)
            else { throw AgentStoreError.forbidden }
            try PostgresAgentRepository.insertDefaultSettings(connection, agentID: id)
            return id
        }
    }

    public func rotateToken(idOrName: String, tokenHash: String, completion: @escaping Completion<AgentIdentity?>) {
        store.transactionAsync({ connection -> AgentIdentity? in
            guard let agent = try PostgresAgentRepository.identity(connection, idOrName: idOrName) else { return nil }
            try connection.run(
                "UPDATE agents SET token_hash = $1, updated_at = $2 WHERE id = $3",
                [.text(tokenHash), .text(Timestamp.now()), .text(agent.id)])
            return agent
        }, completion: completion)
    }

    public func recordInstallToken(hash: String, port: Int) throws {
        _ = try store.pool.transaction { connection in
            try connection.run(
                """
                INSERT INTO agent_install_tokens (token_hash, port, created_at) VALUES ($1, $2, $3)
                ON CONFLICT (token_hash) DO UPDATE SET port = excluded.port, created_at = excluded.created_at
                """, [.text(hash), PostgresValue(port), .text(Timestamp.now())])
        }
    }

    public func installTokenIsPending(hash: String, createdAfter: String) throws -> Bool {
        try store.pool.withConnection { connection in
            try connection.queryOne(
                "SELECT 1 FROM agent_install_tokens WHERE token_hash = $1 AND created_at >= $2",
                [.text(hash.lowercased()), .text(createdAfter)]) != nil
        }
    }

    public func unregisteredCount() throws -> Int {
        try store.pool.withConnection { connection in
            try connection.queryOne(
                """
                SELECT (SELECT count(*) FROM agents WHERE status = 'provisioned')
                     + (SELECT count(*) FROM agent_install_tokens)
                """)?.int(0) ?? 0
        }
    }

    public func removeUnregistered(before cutoff: String) throws -> [(id: String, name: String)] {
        try store.pool.transaction { connection in
            let removed = try connection.query(
                "DELETE FROM agents WHERE status = 'provisioned' AND updated_at < $1 RETURNING id, name",
                [.text(cutoff)]
            ).rows.compactMap { row in row.string(0).map { (id: $0, name: row.string(1) ?? "") } }
            try connection.run("DELETE FROM agent_install_tokens WHERE created_at < $1", [.text(cutoff)])
            return removed
        }
    }

    public func update(idOrName: String, notes: String?, tags: [String]?) throws -> Bool {
        try store.pool.transaction { connection in
            guard let agent = try PostgresAgentRepository.identity(connection, idOrName: idOrName) else { return false }
            try connection.run(
                "UPDATE agents SET notes = COALESCE($1, notes), tags = COALESCE($2, tags), updated_at = $3 WHERE id = $4",
                [PostgresValue(notes), PostgresValue(tags.map(StoredRows.stringArray)), .text(Timestamp.now()),
                 .text(agent.id)])
            return true
        }
    }

    public func settings(idOrName: String) throws -> [(key: String, value: String)]? {
        try store.pool.transaction(isolation: .repeatableRead) { connection in
            guard let agent = try PostgresAgentRepository.identity(connection, idOrName: idOrName) else { return nil }
            return try PostgresAgentRepository.settings(connection, agentID: agent.id)
        }
    }

    public func updateSettings(idOrName: String, _ values: [(key: String, value: String)]) throws -> Bool {
        try store.pool.transaction { connection in
            guard let agent = try PostgresAgentRepository.identity(connection, idOrName: idOrName) else { return false }
            for (key, value) in values {
                try connection.run(
                    """
                    INSERT INTO agent_settings (agent_id, key, value) VALUES ($1, $2, $3)
                    ON CONFLICT (agent_id, key) DO UPDATE SET value = excluded.value
                    """, [.text(agent.id), .text(key), .text(value)])
            }
            return true
        }
    }

    /// One statement: with several instances sweeping, each agent is marked (and reported) once.
    public func markOffline(cutoff: String) throws -> [(id: String, name: String)] {
        try store.pool.transaction { connection in
            try connection.query(
                """
                UPDATE agents SET status = 'offline'
                WHERE status NOT IN ('offline', 'provisioned') AND (last_heartbeat IS NULL OR last_heartbeat < $1)
                RETURNING id, name
                """, [.text(cutoff)]
            ).rows.compactMap { row in row.string(0).map { (id: $0, name: row.string(1) ?? "") } }
        }
    }

    public func reportedEngines() throws -> [ReportedEngine] {
        try store.pool.withConnection { connection in
            try connection.query(
                """
                SELECT agent_id, engine, installed, running, version, binary_path, updated_at
                FROM agent_engines ORDER BY agent_id, engine
                """
            ).rows.map(PostgresAgentRepository.reportedEngine)
        }
    }
}
