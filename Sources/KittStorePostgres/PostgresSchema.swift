import KittStore
import KittPostgres

/// kitt's schema on PostgreSQL: the same tables and columns as the SQLite schema
/// (`Schema`, v1–v11), as three numbered PostgreSQL migrations of their own.
///
/// Differences, on purpose:
/// - booleans are `boolean`, reals `double precision`, counters `bigint`;
/// - `runs.rid` is an identity column (SQLite's rowid) that child rows reference;
/// - text that kitt sorts by (ids, names, timestamps) is `COLLATE "C"`: bytewise, as in
///   SQLite, whatever the database's locale, and the indexes serve those orders;
/// - timestamps stay kitt's ISO 8601 UTC text, so both stores sort and compare them alike
///   and `kitt migrate` copies them unchanged;
/// - SQLite's summary tables (v5: result_groups, metric_totals, result_sets, run_chunks)
///   are not here: hot summary rows would serialize concurrent writers from several
///   instances. v6 keeps append-only running totals instead (`PostgresResultTotals`).
public enum PostgresSchema {
    public static let migrations: [PostgresMigration] = [
        v1Results, v2Agents, v3Work, v4Events, v5ResultsChanges, PostgresResultTotals.migration, v7ChangeCountSequence,
    ]

    public static let v1Results = PostgresMigration(
        version: 1, name: "results",
        sql: """
            CREATE TABLE runs (
                rid bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
                id text COLLATE "C" NOT NULL UNIQUE,
                model text COLLATE "C" NOT NULL,
                engine text COLLATE "C" NOT NULL,
                suite_name text COLLATE "C" NOT NULL DEFAULT '',
                timestamp text COLLATE "C" NOT NULL DEFAULT '',
                passed boolean NOT NULL DEFAULT false,
                total_benchmarks bigint NOT NULL DEFAULT 0,
                passed_count bigint NOT NULL DEFAULT 0,
                failed_count bigint NOT NULL DEFAULT 0,
                total_time_seconds double precision NOT NULL DEFAULT 0,
                kitt_version text NOT NULL DEFAULT '',
                document text NOT NULL,
                created_at text NOT NULL
            );
            CREATE INDEX runs_timestamp ON runs (timestamp DESC, id);
            CREATE INDEX runs_model_time ON runs (model, timestamp DESC, id);
            CREATE INDEX runs_engine_time ON runs (engine, timestamp DESC, id);
            CREATE INDEX runs_suite_time ON runs (suite_name, timestamp DESC, id);

            CREATE TABLE benchmarks (
                id bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
                run bigint NOT NULL REFERENCES runs (rid) ON DELETE CASCADE,
                test_name text NOT NULL DEFAULT '',
                test_version text NOT NULL DEFAULT '',
                run_number bigint NOT NULL DEFAULT 0,
                passed boolean NOT NULL DEFAULT false
            );
            CREATE INDEX benchmarks_run ON benchmarks (run);

            CREATE TABLE metrics (
                id bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
                run bigint NOT NULL REFERENCES runs (rid) ON DELETE CASCADE,
                benchmark_id bigint NOT NULL REFERENCES benchmarks (id) ON DELETE CASCADE,
                name text NOT NULL,
                value double precision NOT NULL
            );
            CREATE INDEX metrics_run_name ON metrics (run, name, value);
            CREATE INDEX metrics_benchmark ON metrics (benchmark_id);

            CREATE TABLE hardware (
                run bigint PRIMARY KEY REFERENCES runs (rid) ON DELETE CASCADE,
                gpu_model text, gpu_vram_gb double precision, gpu_count bigint,
                cpu_model text, cpu_cores bigint, ram_gb double precision,
                environment_type text, fingerprint text
            );
            """)

    public static let v2Agents = PostgresMigration(
        version: 2, name: "agents, settings, engines, commands, install tokens",
        sql: """
            CREATE TABLE agents (
                id text COLLATE "C" PRIMARY KEY,
                name text COLLATE "C" NOT NULL UNIQUE,
                hostname text NOT NULL DEFAULT '',
                port bigint NOT NULL DEFAULT 8090,
                gpu_info text NOT NULL DEFAULT '',
                gpu_count bigint NOT NULL DEFAULT 0,
                cpu_info text NOT NULL DEFAULT '',
                cpu_arch text NOT NULL DEFAULT '',
                ram_gb double precision NOT NULL DEFAULT 0,
                environment_type text NOT NULL DEFAULT '',
                fingerprint text NOT NULL DEFAULT '',
                kitt_version text NOT NULL DEFAULT '',
                capabilities text NOT NULL DEFAULT '[]',
                hardware_details text NOT NULL DEFAULT '',
                status text NOT NULL DEFAULT 'online',
                current_task text NOT NULL DEFAULT '',
                gpu_utilization_pct double precision,
                gpu_memory_used_gb double precision,
                storage_gb_free double precision,
                uptime_s double precision,
                notes text NOT NULL DEFAULT '',
                tags text NOT NULL DEFAULT '[]',
                token_hash text,
                registered_at text NOT NULL,
                last_heartbeat text,
                updated_at text NOT NULL
            );
            CREATE INDEX agents_token_hash ON agents (lower(token_hash));

            CREATE TABLE agent_settings (
                agent_id text NOT NULL REFERENCES agents (id) ON DELETE CASCADE,
                key text NOT NULL,
                value text NOT NULL,
                PRIMARY KEY (agent_id, key)
            );

            CREATE TABLE agent_engines (
                agent_id text NOT NULL REFERENCES agents (id) ON DELETE CASCADE,
                engine text COLLATE "C" NOT NULL,
                installed boolean NOT NULL DEFAULT false,
                running boolean NOT NULL DEFAULT false,
                version text NOT NULL DEFAULT '',
                binary_path text NOT NULL DEFAULT '',
                updated_at text NOT NULL,
                PRIMARY KEY (agent_id, engine)
            );

            -- seq: the queue order among commands created in the same microsecond (SQLite's rowid).
            CREATE TABLE agent_commands (
                id text PRIMARY KEY,
                seq bigint GENERATED ALWAYS AS IDENTITY,
                agent_id text NOT NULL REFERENCES agents (id) ON DELETE CASCADE,
                test_id text,
                type text NOT NULL,
                payload text NOT NULL DEFAULT '{}',
                status text NOT NULL DEFAULT 'queued',
                created_at text NOT NULL,
                dispatched_at text
            );
            CREATE INDEX agent_commands_queue ON agent_commands (agent_id, status, created_at, seq);

            CREATE TABLE agent_install_tokens (
                token_hash text PRIMARY KEY,
                port bigint NOT NULL DEFAULT 8090,
                created_at text NOT NULL
            );
            CREATE INDEX agent_install_tokens_created ON agent_install_tokens (created_at);
            """)

    public static let v3Work = PostgresMigration(
        version: 3, name: "quick tests, campaigns, engine profiles, web sessions",
        sql: """
            CREATE TABLE quick_tests (
                id text PRIMARY KEY,
                agent_id text NOT NULL,
                agent_name text NOT NULL DEFAULT '',
                model_path text NOT NULL,
                engine_name text NOT NULL,
                benchmark_name text NOT NULL DEFAULT 'throughput',
                suite_name text NOT NULL DEFAULT 'quick',
                engine_mode text NOT NULL DEFAULT 'docker',
                profile_id text,
                status text NOT NULL DEFAULT 'queued',
                command_id text,
                campaign_id text,
                result_id text,
                error text,
                created_at text NOT NULL,
                started_at text,
                completed_at text,
                log_count bigint NOT NULL DEFAULT 0,
                log_bytes bigint NOT NULL DEFAULT 0
            );
            CREATE INDEX quick_tests_created ON quick_tests (created_at DESC);
            CREATE INDEX quick_tests_status ON quick_tests (status, created_at DESC);
            CREATE INDEX quick_tests_agent_name ON quick_tests (agent_name, created_at DESC);
            CREATE INDEX quick_tests_command ON quick_tests (command_id);
            CREATE INDEX quick_tests_campaign ON quick_tests (campaign_id);

            CREATE TABLE quick_test_logs (
                id bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
                test_id text NOT NULL REFERENCES quick_tests (id) ON DELETE CASCADE,
                line text NOT NULL,
                created_at text NOT NULL
            );
            CREATE INDEX quick_test_logs_test ON quick_test_logs (test_id, id);

            CREATE TABLE web_campaigns (
                id text PRIMARY KEY,
                name text NOT NULL,
                description text NOT NULL DEFAULT '',
                agent_id text,
                status text NOT NULL DEFAULT 'draft',
                config text NOT NULL DEFAULT '{}',
                total_runs bigint NOT NULL DEFAULT 0,
                succeeded bigint NOT NULL DEFAULT 0,
                failed bigint NOT NULL DEFAULT 0,
                next_index bigint NOT NULL DEFAULT 0,
                current_test_id text,
                error text,
                created_at text NOT NULL,
                updated_at text NOT NULL,
                started_at text,
                completed_at text
            );
            CREATE INDEX web_campaigns_created ON web_campaigns (created_at DESC);
            CREATE INDEX web_campaigns_status ON web_campaigns (status, created_at DESC);

            CREATE TABLE campaign_logs (
                id bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
                campaign_id text NOT NULL REFERENCES web_campaigns (id) ON DELETE CASCADE,
                line text NOT NULL,
                created_at text NOT NULL
            );
            CREATE INDEX campaign_logs_campaign ON campaign_logs (campaign_id, id);

            CREATE TABLE engine_profiles (
                id text PRIMARY KEY,
                name text COLLATE "C" NOT NULL UNIQUE,
                engine text COLLATE "C" NOT NULL,
                mode text NOT NULL DEFAULT 'docker',
                description text NOT NULL DEFAULT '',
                build_config text NOT NULL DEFAULT '{}',
                runtime_config text NOT NULL DEFAULT '{}',
                created_at text NOT NULL,
                updated_at text NOT NULL
            );
            CREATE INDEX engine_profiles_engine ON engine_profiles (engine, name);

            CREATE TABLE web_sessions (
                id_hash text PRIMARY KEY,
                csrf_token text NOT NULL,
                created_at text NOT NULL,
                expires_at double precision NOT NULL
            );
            CREATE INDEX web_sessions_expiry ON web_sessions (expires_at);
            """)

    /// The event log every instance publishes to and replays from (`PostgresEventLog`):
    /// one id sequence for all instances, so SSE ids stay monotonic and `Last-Event-ID`
    /// replays the same events whichever instance a client reconnects to.
    public static let v4Events = PostgresMigration(
        version: 4, name: "events",
        sql: """
            CREATE TABLE events (
                id bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
                type text NOT NULL,
                sources text NOT NULL DEFAULT '[]',
                data text NOT NULL,
                created_at text NOT NULL
            );
            """)

    /// A counter of committed changes to results, for response caches on every instance
    /// (`PostgresResultsRepository.changeCount`).
    public static let v5ResultsChanges = PostgresMigration(
        version: 5, name: "results change counter",
        sql: """
            CREATE TABLE results_changes (
                one integer PRIMARY KEY CHECK (one = 1),
                changes bigint NOT NULL
            );
            INSERT INTO results_changes VALUES (1, 0);
            """)

    /// The results change count as a sequence: bumping a counter row held a row lock until
    /// COMMIT, so every instance's result writes queued on it (`Scripts/bench pg`: 342 of 371
    /// busy-backend samples waited there with two instances). The old table stays, unused
    /// (shipped migrations are never undone).
    public static let v7ChangeCountSequence = PostgresMigration(
        version: 7, name: "results change count as a sequence",
        sql: """
            CREATE SEQUENCE results_change_count;
            SELECT setval('results_change_count', changes + 1, false) FROM results_changes WHERE changes > 0;
            """)
}
