import KittSQLite

extension Schema {
    /// KITT's engine profiles (SPEC §7.1): named engine configurations, shared by the engines
    /// API and `kitt migrate`. `build_config`/`runtime_config` hold JSON object text.
    public static let v4EngineProfiles = Migration(
        version: 4, name: "engine profiles",
        sql: """
            CREATE TABLE engine_profiles (
                id TEXT PRIMARY KEY,
                name TEXT NOT NULL UNIQUE,
                engine TEXT NOT NULL,
                mode TEXT NOT NULL DEFAULT 'docker',
                description TEXT NOT NULL DEFAULT '',
                build_config TEXT NOT NULL DEFAULT '{}',
                runtime_config TEXT NOT NULL DEFAULT '{}',
                created_at TEXT NOT NULL,
                updated_at TEXT NOT NULL
            );
            CREATE INDEX engine_profiles_engine ON engine_profiles(engine, name);
            """)
}
