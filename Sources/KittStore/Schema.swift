import KittSQLite

/// kitt's schema (SPEC §6). Shipped migrations are never edited: changes get a new version.
/// IDs are 16 lowercase hex characters from the CSPRNG (`StoreID.make()`); timestamps are
/// ISO 8601 UTC text (`Timestamp.now()`), which sorts correctly as text.
public enum Schema {
    public static let v1ResultsAndAgents = Migration(
        version: 1, name: "results, agents, quick tests, campaigns",
        sql: """
            -- Results: the metrics.json document as sent, its columns indexed, one row per
            -- benchmark and one per numeric metric so aggregation is a query.
            CREATE TABLE runs (
                id TEXT PRIMARY KEY,
                model TEXT NOT NULL,
                engine TEXT NOT NULL,
                suite_name TEXT NOT NULL DEFAULT '',
                timestamp TEXT NOT NULL DEFAULT '',
                passed INTEGER NOT NULL DEFAULT 0,
                total_benchmarks INTEGER NOT NULL DEFAULT 0,
                passed_count INTEGER NOT NULL DEFAULT 0,
                failed_count INTEGER NOT NULL DEFAULT 0,
                total_time_seconds REAL NOT NULL DEFAULT 0,
                kitt_version TEXT NOT NULL DEFAULT '',
                document TEXT NOT NULL,
                created_at TEXT NOT NULL
            );
            CREATE INDEX runs_model ON runs(model, timestamp DESC);
            CREATE INDEX runs_engine ON runs(engine, timestamp DESC);
            CREATE INDEX runs_suite ON runs(suite_name, timestamp DESC);
            CREATE INDEX runs_timestamp ON runs(timestamp DESC, id);

            CREATE TABLE benchmarks (
                id INTEGER PRIMARY KEY,
                run_id TEXT NOT NULL REFERENCES runs(id) ON DELETE CASCADE,
                test_name TEXT NOT NULL DEFAULT '',
                test_version TEXT NOT NULL DEFAULT '',
                run_number INTEGER NOT NULL DEFAULT 0,
                passed INTEGER NOT NULL DEFAULT 0
            );
            CREATE INDEX benchmarks_run ON benchmarks(run_id);

            CREATE TABLE metrics (
                id INTEGER PRIMARY KEY,
                run_id TEXT NOT NULL REFERENCES runs(id) ON DELETE CASCADE,
                benchmark_id INTEGER NOT NULL REFERENCES benchmarks(id) ON DELETE CASCADE,
                name TEXT NOT NULL,
                value REAL NOT NULL
            );
            CREATE INDEX metrics_name_run ON metrics(name, run_id);
            CREATE INDEX metrics_run ON metrics(run_id);
            CREATE INDEX metrics_benchmark ON metrics(benchmark_id);

            CREATE TABLE hardware (
                run_id TEXT PRIMARY KEY REFERENCES runs(id) ON DELETE CASCADE,
                gpu_model TEXT, gpu_vram_gb REAL, gpu_count INTEGER,
                cpu_model TEXT, cpu_cores INTEGER, ram_gb REAL,
                environment_type TEXT, fingerprint TEXT
            );

            -- Agents, their settings (string values), engines and queued commands.
            CREATE TABLE agents (
                id TEXT PRIMARY KEY,
                name TEXT NOT NULL UNIQUE,
                hostname TEXT NOT NULL DEFAULT '',
                port INTEGER NOT NULL DEFAULT 8090,
                gpu_info TEXT NOT NULL DEFAULT '',
                gpu_count INTEGER NOT NULL DEFAULT 0,
                cpu_info TEXT NOT NULL DEFAULT '',
                cpu_arch TEXT NOT NULL DEFAULT '',
                ram_gb REAL NOT NULL DEFAULT 0,
                environment_type TEXT NOT NULL DEFAULT '',
                fingerprint TEXT NOT NULL DEFAULT '',
                kitt_version TEXT NOT NULL DEFAULT '',
                capabilities TEXT NOT NULL DEFAULT '[]',
                hardware_details TEXT NOT NULL DEFAULT '',
                status TEXT NOT NULL DEFAULT 'online',
                current_task TEXT NOT NULL DEFAULT '',
                gpu_utilization_pct REAL,
                gpu_memory_used_gb REAL,
                storage_gb_free REAL,
                uptime_s REAL,
                notes TEXT NOT NULL DEFAULT '',
                tags TEXT NOT NULL DEFAULT '[]',
                token_hash TEXT,
                registered_at TEXT NOT NULL,
                last_heartbeat TEXT,
                updated_at TEXT NOT NULL
            );

            CREATE TABLE agent_settings (
                agent_id TEXT NOT NULL REFERENCES agents(id) ON DELETE CASCADE,
                key TEXT NOT NULL,
                value TEXT NOT NULL,
                PRIMARY KEY (agent_id, key)
            );

            CREATE TABLE agent_engines (
                agent_id TEXT NOT NULL REFERENCES agents(id) ON DELETE CASCADE,
                engine TEXT NOT NULL,
                installed INTEGER NOT NULL DEFAULT 0,
                running INTEGER NOT NULL DEFAULT 0,
                version TEXT NOT NULL DEFAULT '',
                binary_path TEXT NOT NULL DEFAULT '',
                updated_at TEXT NOT NULL,
                PRIMARY KEY (agent_id, engine)
            );

            -- Work for agents, handed out by heartbeats one at a time, oldest first.
            -- type: run_test | cleanup_storage; status: queued | dispatched | done.
            CREATE TABLE agent_commands (
                id TEXT PRIMARY KEY,
                agent_id TEXT NOT NULL REFERENCES agents(id) ON DELETE CASCADE,
                test_id TEXT,
                type TEXT NOT NULL,
                payload TEXT NOT NULL DEFAULT '{}',
                status TEXT NOT NULL DEFAULT 'queued',
                created_at TEXT NOT NULL,
                dispatched_at TEXT
            );
            CREATE INDEX agent_commands_queue ON agent_commands(agent_id, status, created_at);

            -- Quick tests and campaigns outlive their agent (no foreign key to agents).
            -- status: queued | running | completed | failed (| cancelled for campaign tests).
            CREATE TABLE quick_tests (
                id TEXT PRIMARY KEY,
                agent_id TEXT NOT NULL,
                agent_name TEXT NOT NULL DEFAULT '',
                model_path TEXT NOT NULL,
                engine_name TEXT NOT NULL,
                benchmark_name TEXT NOT NULL DEFAULT 'throughput',
                suite_name TEXT NOT NULL DEFAULT 'quick',
                engine_mode TEXT NOT NULL DEFAULT 'docker',
                profile_id TEXT,
                status TEXT NOT NULL DEFAULT 'queued',
                command_id TEXT,
                campaign_id TEXT,
                result_id TEXT,
                error TEXT,
                created_at TEXT NOT NULL,
                started_at TEXT,
                completed_at TEXT
            );
            CREATE INDEX quick_tests_created ON quick_tests(created_at DESC);
            CREATE INDEX quick_tests_status ON quick_tests(status, created_at DESC);
            CREATE INDEX quick_tests_agent_name ON quick_tests(agent_name, created_at DESC);
            CREATE INDEX quick_tests_command ON quick_tests(command_id);
            CREATE INDEX quick_tests_campaign ON quick_tests(campaign_id);

            CREATE TABLE quick_test_logs (
                id INTEGER PRIMARY KEY,
                test_id TEXT NOT NULL REFERENCES quick_tests(id) ON DELETE CASCADE,
                line TEXT NOT NULL,
                created_at TEXT NOT NULL
            );
            CREATE INDEX quick_test_logs_test ON quick_test_logs(test_id, id);

            -- status: draft | queued | running | completed | failed | cancelled.
            -- next_index: how many model × engine × benchmark runs are finished (resume point).
            CREATE TABLE web_campaigns (
                id TEXT PRIMARY KEY,
                name TEXT NOT NULL,
                description TEXT NOT NULL DEFAULT '',
                agent_id TEXT,
                status TEXT NOT NULL DEFAULT 'draft',
                config TEXT NOT NULL DEFAULT '{}',
                total_runs INTEGER NOT NULL DEFAULT 0,
                succeeded INTEGER NOT NULL DEFAULT 0,
                failed INTEGER NOT NULL DEFAULT 0,
                next_index INTEGER NOT NULL DEFAULT 0,
                current_test_id TEXT,
                error TEXT,
                created_at TEXT NOT NULL,
                updated_at TEXT NOT NULL,
                started_at TEXT,
                completed_at TEXT
            );
            CREATE INDEX web_campaigns_created ON web_campaigns(created_at DESC);
            CREATE INDEX web_campaigns_status ON web_campaigns(status, created_at DESC);

            CREATE TABLE campaign_logs (
                id INTEGER PRIMARY KEY,
                campaign_id TEXT NOT NULL REFERENCES web_campaigns(id) ON DELETE CASCADE,
                line TEXT NOT NULL,
                created_at TEXT NOT NULL
            );
            CREATE INDEX campaign_logs_campaign ON campaign_logs(campaign_id, id);
            """)

    /// Aggregation joins runs to metrics per group: (column, id) indexes let SQLite find a
    /// group's runs without reading their (large) documents.
    public static let v2AggregateIndexes = Migration(
        version: 2, name: "aggregate indexes",
        sql: """
            CREATE INDEX runs_model_id ON runs(model, id);
            CREATE INDEX runs_engine_id ON runs(engine, id);
            CREATE INDEX runs_suite_id ON runs(suite_name, id);
            """)

    /// Result storage that costs fewer random page writes per stored result (every page a
    /// write touches is a WAL frame at COMMIT, so this is most of a durable result write).
    /// Run ids are random, so every index keyed by one takes a random leaf page per insert.
    /// - runs gets an integer key `rid` (its rowid, kept by VACUUM) next to the public `id`;
    ///   benchmarks, metrics and hardware reference `runs(rid)` in a column `run` (cascades
    ///   unchanged). A new run's rid is the largest, so its child rows and their indexes
    ///   are appended at the end instead of at random places.
    /// - runs (model|engine|suite_name, timestamp DESC, id) serve both the filtered list
    ///   (ordered by timestamp) and the aggregate's scan of a group (covering: every index
    ///   holds rid), replacing v1's (column, timestamp) and v2's (column, id) indexes.
    /// - metrics (run, name, value) serves the aggregate's join (covering) and the cascade,
    ///   instead of (name, run_id) + (run_id).
    /// Per result (in a batch of 29, 60,000 stored): ~11.7 WAL frames before, ~7.6 after.
    /// The tables are rebuilt with their rows, ids and rowids kept (children first dropped,
    /// so dropping the old runs cascades nothing).
    public static let v3ResultsByRowKey = Migration(
        version: 3, name: "results keyed by run rowid, leaner indexes",
        sql: """
            CREATE TABLE runs_v3 (
                rid INTEGER PRIMARY KEY,
                id TEXT NOT NULL UNIQUE,
                model TEXT NOT NULL,
                engine TEXT NOT NULL,
                suite_name TEXT NOT NULL DEFAULT '',
                timestamp TEXT NOT NULL DEFAULT '',
                passed INTEGER NOT NULL DEFAULT 0,
                total_benchmarks INTEGER NOT NULL DEFAULT 0,
                passed_count INTEGER NOT NULL DEFAULT 0,
                failed_count INTEGER NOT NULL DEFAULT 0,
                total_time_seconds REAL NOT NULL DEFAULT 0,
                kitt_version TEXT NOT NULL DEFAULT '',
                document TEXT NOT NULL,
                created_at TEXT NOT NULL
            );
            INSERT INTO runs_v3 (rid, id, model, engine, suite_name, timestamp, passed, total_benchmarks,
                passed_count, failed_count, total_time_seconds, kitt_version, document, created_at)
            SELECT rowid, id, model, engine, suite_name, timestamp, passed, total_benchmarks,
                passed_count, failed_count, total_time_seconds, kitt_version, document, created_at
            FROM runs ORDER BY rowid;

            CREATE TABLE benchmarks_v3 (
                id INTEGER PRIMARY KEY,
                run INTEGER NOT NULL REFERENCES runs_v3(rid) ON DELETE CASCADE,
                test_name TEXT NOT NULL DEFAULT '',
                test_version TEXT NOT NULL DEFAULT '',
                run_number INTEGER NOT NULL DEFAULT 0,
                passed INTEGER NOT NULL DEFAULT 0
            );
            INSERT INTO benchmarks_v3 (id, run, test_name, test_version, run_number, passed)
            SELECT b.id, r.rowid, b.test_name, b.test_version, b.run_number, b.passed
            FROM benchmarks b JOIN runs r ON r.id = b.run_id ORDER BY b.id;

            CREATE TABLE metrics_v3 (
                id INTEGER PRIMARY KEY,
                run INTEGER NOT NULL REFERENCES runs_v3(rid) ON DELETE CASCADE,
                benchmark_id INTEGER NOT NULL REFERENCES benchmarks_v3(id) ON DELETE CASCADE,
                name TEXT NOT NULL,
                value REAL NOT NULL
            );
            INSERT INTO metrics_v3 (id, run, benchmark_id, name, value)
            SELECT m.id, r.rowid, m.benchmark_id, m.name, m.value
            FROM metrics m JOIN runs r ON r.id = m.run_id ORDER BY m.id;

            CREATE TABLE hardware_v3 (
                run INTEGER PRIMARY KEY REFERENCES runs_v3(rid) ON DELETE CASCADE,
                gpu_model TEXT, gpu_vram_gb REAL, gpu_count INTEGER,
                cpu_model TEXT, cpu_cores INTEGER, ram_gb REAL,
                environment_type TEXT, fingerprint TEXT
            );
            INSERT INTO hardware_v3 (run, gpu_model, gpu_vram_gb, gpu_count, cpu_model, cpu_cores, ram_gb,
                environment_type, fingerprint)
            SELECT r.rowid, h.gpu_model, h.gpu_vram_gb, h.gpu_count, h.cpu_model, h.cpu_cores, h.ram_gb,
                h.environment_type, h.fingerprint
            FROM hardware h JOIN runs r ON r.id = h.run_id;

            DROP TABLE hardware;
            DROP TABLE metrics;
            DROP TABLE benchmarks;
            DROP TABLE runs;
            -- Renaming a parent also rewrites the REFERENCES clauses of its children.
            ALTER TABLE runs_v3 RENAME TO runs;
            ALTER TABLE benchmarks_v3 RENAME TO benchmarks;
            ALTER TABLE metrics_v3 RENAME TO metrics;
            ALTER TABLE hardware_v3 RENAME TO hardware;

            CREATE INDEX runs_timestamp ON runs(timestamp DESC, id);
            CREATE INDEX runs_model_time ON runs(model, timestamp DESC, id);
            CREATE INDEX runs_engine_time ON runs(engine, timestamp DESC, id);
            CREATE INDEX runs_suite_time ON runs(suite_name, timestamp DESC, id);
            CREATE INDEX benchmarks_run ON benchmarks(run);
            CREATE INDEX metrics_run_name ON metrics(run, name, value);
            CREATE INDEX metrics_benchmark ON metrics(benchmark_id);
            """)
}
