import KittStore
import KittJSON
import KittPostgres

/// Engine profiles on PostgreSQL, as `EngineProfileRepository`. Two instances creating the
/// same name at once: the unique index refuses the second, reported as `.nameTaken`.
public struct PostgresEngineProfileRepository: EngineProfileStoring {
    let store: PostgresStore

    static func decode(_ row: PostgresRow) -> EngineProfile {
        EngineProfile.stored(
            id: row.string(0) ?? "", name: row.string(1) ?? "", engine: row.string(2) ?? "",
            mode: row.string(3) ?? "docker", description: row.string(4) ?? "", buildConfig: row.string(5) ?? "{}",
            runtimeConfig: row.string(6) ?? "{}", createdAt: row.string(7) ?? "", updatedAt: row.string(8) ?? "")
    }

    static func fetch(_ id: String, _ connection: PostgresConnection) throws -> EngineProfile? {
        try connection.queryOne(
            "SELECT \(StoredRows.engineProfileColumns) FROM engine_profiles WHERE id = $1", [.text(id)]
        ).map(decode)
    }

    public func list(engine: String?) throws -> [EngineProfile] {
        try store.pool.withConnection { connection in
            let sql = "SELECT \(StoredRows.engineProfileColumns) FROM engine_profiles"
            let rows = try engine.map {
                try connection.query(sql + " WHERE engine = $1 ORDER BY name", [.text($0)]).rows
            } ?? connection.query(sql + " ORDER BY name").rows
            return rows.map(PostgresEngineProfileRepository.decode)
        }
    }

    public func get(id: String) throws -> EngineProfile? {
        try store.pool.withConnection { try PostgresEngineProfileRepository.fetch(id, $0) }
    }

    public func create(_ fields: EngineProfileFields) throws -> EngineProfile {
        guard let name = fields.name else { throw EngineProfileError.missing("name") }
        guard let engine = fields.engine else { throw EngineProfileError.missing("engine") }
        return try uniqueName(name) {
            try store.pool.transaction { connection in
                let now = Timestamp.now()
                guard let row = try connection.queryOne(
                    """
                    INSERT INTO engine_profiles (id, name, engine, mode, description, build_config, runtime_config,
                        created_at, updated_at)
                    VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $8) RETURNING \(StoredRows.engineProfileColumns)
                    """,
                    [.text(StoreID.make()), .text(name), .text(engine), .text(fields.mode ?? "docker"),
                     .text(fields.description ?? ""), .text(fields.buildConfig ?? "{}"),
                     .text(fields.runtimeConfig ?? "{}"), .text(now)])
                else { throw PostgresError(sqlState: "", message: "engine profile missing after insert") }
                return PostgresEngineProfileRepository.decode(row)
            }
        }
    }

    public func update(id: String, _ fields: EngineProfileFields) throws -> EngineProfile? {
        try uniqueName(fields.name ?? "") {
            try store.pool.transaction { connection in
                try connection.queryOne(
                    """
                    UPDATE engine_profiles SET name = COALESCE($1, name), engine = COALESCE($2, engine),
                        mode = COALESCE($3, mode), description = COALESCE($4, description),
                        build_config = COALESCE($5, build_config), runtime_config = COALESCE($6, runtime_config),
                        updated_at = $7
                    WHERE id = $8 RETURNING \(StoredRows.engineProfileColumns)
                    """,
                    [PostgresValue(fields.name), PostgresValue(fields.engine), PostgresValue(fields.mode),
                     PostgresValue(fields.description), PostgresValue(fields.buildConfig),
                     PostgresValue(fields.runtimeConfig), .text(Timestamp.now()), .text(id)]
                ).map(PostgresEngineProfileRepository.decode)
            }
        }
    }

    public func delete(id: String) throws -> Bool {
        try store.pool.transaction { try $0.run("DELETE FROM engine_profiles WHERE id = $1", [.text(id)]) > 0 }
    }

    /// The unique index on `name` is the check (no read-then-write race between instances).
    private func uniqueName<T>(_ name: String, _ body: () throws -> T) throws -> T {
        do {
            return try body()
        } catch let error as PostgresError where error.isUniqueViolation {
            throw EngineProfileError.nameTaken(name)
        }
    }
}

extension PostgresStore {
    public var engineProfiles: PostgresEngineProfileRepository { PostgresEngineProfileRepository(store: self) }
}
