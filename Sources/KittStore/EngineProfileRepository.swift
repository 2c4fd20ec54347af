import KittJSON
import KittSQLite

/// A named engine configuration (KITT's engine profiles, SPEC §7.1).
public struct EngineProfile: Sendable, Equatable {
    public var id: String
    public var name: String
    public var engine: String
    /// `docker` (default) | `native`.
    public var mode: String
    public var description: String
    /// JSON object text.
    public var buildConfig: String
    /// JSON object text.
    public var runtimeConfig: String
    public var createdAt: String
    public var updatedAt: String

    /// `{id, name, engine, mode, description, build_config, runtime_config, created_at, updated_at}`.
    public var json: JSON {
        .object(
            JSONObject([
                ("id", .string(id)),
                ("name", .string(name)),
                ("engine", .string(engine)),
                ("mode", .string(mode)),
                ("description", .string(description)),
                ("build_config", EngineProfile.object(buildConfig)),
                ("runtime_config", EngineProfile.object(runtimeConfig)),
                ("created_at", .string(createdAt)),
                ("updated_at", .string(updatedAt)),
            ]))
    }

    /// Stored object text as JSON (`{}` if it somehow is not an object, e.g. a hand-edited row).
    static func object(_ text: String) -> JSON {
        guard let parsed = try? JSON(parsing: Array(text.utf8)), parsed.objectValue != nil else {
            return .object(JSONObject())
        }
        return parsed
    }
}

/// The fields a create or an update carries; nil leaves a field alone (update) or takes the
/// default (create: mode `docker`, description "", configs `{}`).
public struct EngineProfileFields: Sendable {
    public var name: String?
    public var engine: String?
    public var mode: String?
    public var description: String?
    /// JSON object text.
    public var buildConfig: String?
    /// JSON object text.
    public var runtimeConfig: String?

    public init() {}
}

public enum EngineProfileError: Error, Sendable, Equatable {
    /// Another profile already has this name (names are unique).
    case nameTaken(String)
    /// A create without `name` or `engine`.
    case missing(String)
}

public struct EngineProfileRepository: Sendable {
    public let database: Database

    public init(database: Database) {
        self.database = database
    }

    static let columns =
        "id, name, engine, mode, description, build_config, runtime_config, created_at, updated_at"

    static func decode(_ row: Row) -> EngineProfile {
        EngineProfile(
            id: row.string(0) ?? "", name: row.string(1) ?? "", engine: row.string(2) ?? "",
            mode: row.string(3) ?? "docker", description: row.string(4) ?? "", buildConfig: row.string(5) ?? "{}",
            runtimeConfig: row.string(6) ?? "{}", createdAt: row.string(7) ?? "", updatedAt: row.string(8) ?? "")
    }

    static func fetch(_ id: String, _ conn: Connection) throws -> EngineProfile? {
        try conn.queryOne("SELECT \(columns) FROM engine_profiles WHERE id = ?", [.text(id)]).map(decode)
    }

    /// By name; only those of `engine` when given.
    public func list(engine: String?) throws -> [EngineProfile] {
        try database.read { conn in
            if let engine {
                return try conn.query(
                    "SELECT \(EngineProfileRepository.columns) FROM engine_profiles WHERE engine = ? ORDER BY name",
                    [.text(engine)]
                ).map(EngineProfileRepository.decode)
            }
            return try conn.query("SELECT \(EngineProfileRepository.columns) FROM engine_profiles ORDER BY name")
                .map(EngineProfileRepository.decode)
        }
    }

    public func get(id: String) throws -> EngineProfile? {
        try database.read { conn in try EngineProfileRepository.fetch(id, conn) }
    }

    public func create(_ fields: EngineProfileFields) throws -> EngineProfile {
        guard let name = fields.name else { throw EngineProfileError.missing("name") }
        guard let engine = fields.engine else { throw EngineProfileError.missing("engine") }
        return try database.write { conn in
            try EngineProfileRepository.requireFreeName(name, except: nil, conn)
            let id = StoreID.make()
            let now = Timestamp.now()
            try conn.run(
                """
                INSERT INTO engine_profiles (id, name, engine, mode, description, build_config, runtime_config,
                    created_at, updated_at)
                VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)
                """,
                [.text(id), .text(name), .text(engine), .text(fields.mode ?? "docker"), .text(fields.description ?? ""),
                 .text(fields.buildConfig ?? "{}"), .text(fields.runtimeConfig ?? "{}"), .text(now), .text(now)])
            guard let profile = try EngineProfileRepository.fetch(id, conn) else {
                throw SQLiteError(code: 1, message: "engine profile missing after insert")
            }
            return profile
        }
    }

    /// Changes the given fields; nil when there is no such profile.
    public func update(id: String, _ fields: EngineProfileFields) throws -> EngineProfile? {
        try database.write { conn in
            guard try EngineProfileRepository.fetch(id, conn) != nil else { return nil }
            if let name = fields.name { try EngineProfileRepository.requireFreeName(name, except: id, conn) }
            try conn.run(
                """
                UPDATE engine_profiles SET name = COALESCE(?, name), engine = COALESCE(?, engine),
                    mode = COALESCE(?, mode), description = COALESCE(?, description),
                    build_config = COALESCE(?, build_config), runtime_config = COALESCE(?, runtime_config),
                    updated_at = ?
                WHERE id = ?
                """,
                [SQLiteValue(fields.name), SQLiteValue(fields.engine), SQLiteValue(fields.mode),
                 SQLiteValue(fields.description), SQLiteValue(fields.buildConfig), SQLiteValue(fields.runtimeConfig),
                 .text(Timestamp.now()), .text(id)])
            return try EngineProfileRepository.fetch(id, conn)
        }
    }

    /// False when there is no such profile.
    public func delete(id: String) throws -> Bool {
        try database.write { conn in try conn.run("DELETE FROM engine_profiles WHERE id = ?", [.text(id)]) > 0 }
    }

    static func requireFreeName(_ name: String, except id: String?, _ conn: Connection) throws {
        if let row = try conn.queryOne("SELECT id FROM engine_profiles WHERE name = ?", [.text(name)]),
            row.string(0) != id
        {
            throw EngineProfileError.nameTaken(name)
        }
    }
}

extension Store {
    public var engineProfiles: EngineProfileRepository { EngineProfileRepository(database: database) }
}
