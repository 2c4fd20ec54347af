#if canImport(FoundationEssentials)
import FoundationEssentials
#else
import Foundation
#endif
import KittNet
import KittSQLite
import KittStore
import Testing

/// `KITT1Migration` on the real KITT 1.x database (Tests/Fixtures/kitt-1x-v11.db) and on
/// copies of it changed to cover KITT's other states.
// SQLite only: KITT 1.x was SQLite, and its migration imports into the SQLite store (PostgreSQL gets it by `kitt migrate`).
@Suite struct KITT1MigrationTests {
    static let fixture = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
        .appendingPathComponent("Fixtures/kitt-1x-v11.db").path
    static let a100 = "bca7aedd37e845bc"
    static let a100Token = "da17de24e9ac1f9c42e89f9b4fd7a37c4c3584b29ae9205ceeb6f272413ef10c"
    static let nightly = "d33267cc20e24299"
    static let quickTest = "4d0c8fb43169457c"

    /// A copy of the fixture in `directory` (removed with the TempStore), changed by `sql`.
    static func kittCopy(in directory: URL, sql: String? = nil) throws -> String {
        let path = directory.appendingPathComponent("kitt-1x-\(UUID().uuidString.prefix(8)).db").path
        try FileManager.default.copyItem(atPath: fixture, toPath: path)
        if let sql {
            let database = try Database(path: path)
            try database.write { try $0.execute(sql) }
            database.close()  // the last connection checkpoints and removes the -wal file
        }
        return path
    }

    static func run(_ source: String, _ temp: TempStore) throws -> KITT1MigrationReport {
        try KITT1Migration.run(
            source: source, into: temp.store, destinationPath: temp.directory.path + "/kitt.db",
            hashToken: { SHA256.hex($0) })
    }

    static func read<T>(_ store: Store, _ sql: String, _ bindings: [SQLiteValue] = [], _ value: (Row) -> T) throws -> [T] {
        try store.database.read { try $0.query(sql, bindings).map(value) }
    }

    @Test func everyTable_arrives_withIdsTokensSettingsAndConfigTextKept() throws {
        let temp = try TempStore()
        let source = try Self.kittCopy(in: temp.directory)
        let before = try Data(contentsOf: URL(fileURLWithPath: source))
        let report = try Self.run(source, temp)

        let expected = [
            "agents": 2, "agent_settings": 12, "agent_engines": 0, "web_campaigns": 2, "campaign_logs": 0,
            "quick_tests": 1, "quick_test_logs": 1, "runs": 11, "benchmarks": 33, "metrics": 88, "hardware": 11,
            "engine_profiles": 1, "events": 0, "web_settings": 0,
        ]
        for (table, count) in expected {
            let entry = try #require(report.table(table), "\(table) missing from the report")
            #expect(entry.found == count && entry.brought == count && entry.skippedCount == 0, "\(table)")
        }
        #expect(report.notes.isEmpty, "\(report.notes)")
        #expect(try Data(contentsOf: URL(fileURLWithPath: source)) == before)

        // The old token authenticates as its agent; settings came along.
        let agent = try #require(try temp.store.agents.identity(tokenHash: SHA256.hex(Self.a100Token)))
        #expect(agent.id == Self.a100 && agent.name == "gpu-a100-1")
        let settings = try #require(try temp.store.agents.settings(idOrName: "gpu-a100-1"))
        #expect(settings.first { $0.key == "heartbeat_interval_s" }?.value == "20")
        #expect(settings.first { $0.key == "model_storage_dir" }?.value == "/data/models")

        // Config text byte for byte, as KITT stored it.
        let kittConfig = try Connection.withImmutableFile(source) {
            try $0.queryOne("SELECT config_json FROM web_campaigns WHERE id = ?", [.text(Self.nightly)])?.string(0)
        }
        let campaign = try #require(try temp.store.campaigns.get(id: Self.nightly))
        #expect(campaign.config == kittConfig && campaign.config.contains("devon_managed"))
        #expect(campaign.status == "draft" && campaign.agentID == Self.a100)
        #expect(campaign.createdAt == "2026-12-01T22:51:02.824242Z")
        #expect(campaign.startedAt == nil && campaign.error == nil)

        let test = try #require(try temp.store.quickTests.get(id: Self.quickTest))
        #expect(test.status == "completed" && test.agentName == "gpu-a100-1" && test.commandID == "7915c06aaae74186")
        #expect(test.profileID == nil && test.error == nil && test.engineMode == "docker")
        #expect(try temp.store.quickTests.logs(testID: Self.quickTest)?.map(\.line) == ["starting vllm"])
        let counters = try Self.read(temp.store, "SELECT log_count, log_bytes FROM quick_tests WHERE id = ?",
                                     [.text(Self.quickTest)]) { [$0.int(0), $0.int(1)] }
        #expect(counters == [[1, "starting vllm".utf8.count]])

        // Results under KITT's run ids, documents exactly as KITT kept them.
        let kittRuns = try Connection.withImmutableFile(source) {
            try $0.query("SELECT id, raw_json FROM runs").map { ($0.string(0) ?? "", $0.string(1) ?? "") }
        }
        #expect(kittRuns.count == 11)
        for (id, document) in kittRuns {
            let stored = try Self.read(temp.store, "SELECT document FROM runs WHERE id = ?", [.text(id)]) {
                $0.string(0)
            }
            #expect(stored == [document], "\(id)")
        }
        // The running summaries (what aggregates read) include the migrated runs.
        let aggregate = try temp.store.results.aggregate(groupBy: .model, metrics: ["avg_tps"])
        #expect(aggregate.rows.reduce(0) { $0 + $1.count } == 11)
        let qwen = aggregate.rows.first { $0.value == "Qwen2.5-7B" }
        #expect(qwen?.count == 1 && (qwen?.averages.first ?? nil) == 129.5)

        let profiles = try Self.read(temp.store, "SELECT name, engine, mode, runtime_config FROM engine_profiles") {
            [$0.string(0), $0.string(1), $0.string(2), $0.string(3)]
        }
        #expect(profiles == [["vllm-fp8", "vllm", "docker", #"{"kv_cache_dtype": "fp8"}"#]])
    }

    @Test func secondRun_addsNothing_andSaysWhy() throws {
        let temp = try TempStore()
        let source = try Self.kittCopy(in: temp.directory)
        _ = try Self.run(source, temp)
        let counts = { (store: Store) throws -> [Int] in
            try ["agents", "agent_settings", "runs", "metrics", "web_campaigns", "quick_tests", "quick_test_logs",
                 "engine_profiles"].map { table in
                try Self.read(store, "SELECT COUNT(*) FROM \(table)") { $0.int(0) ?? -1 }[0]
            }
        }
        let first = try counts(temp.store)
        let report = try Self.run(source, temp)
        #expect(try counts(temp.store) == first)
        for table in report.tables { #expect(table.brought == 0, "\(table.name)") }
        #expect(report.table("agents")?.skipped.allSatisfy { $0.reason == "already in kitt" } == true)
        #expect(report.description.contains("runs: 11 row(s): already in kitt"))
    }

    @Test func inFlightWork_arrivesRestartable_andOldPlainTokensAreHashed() throws {
        let temp = try TempStore()
        let source = try Self.kittCopy(
            in: temp.directory,
            sql: """
                UPDATE quick_tests SET status = 'queued';
                INSERT INTO quick_tests (id, agent_id, model_path, engine_name, benchmark_name, status, created_at,
                    started_at) VALUES ('aaaaaaaaaaaaaaaa', 'bca7aedd37e845bc', '/m', 'vllm', 'throughput',
                    'dispatched', '2026-12-01 22:00:00', '');
                UPDATE web_campaigns SET status = 'running', skipped = 2 WHERE id = 'd33267cc20e24299';
                UPDATE agents SET token_hash = '', token = 'plain-old-token' WHERE name = 'gpu-h100-2';
                """)
        let report = try Self.run(source, temp)
        let queued = try #require(try temp.store.quickTests.get(id: Self.quickTest))
        #expect(queued.status == "failed" && queued.error?.contains("queued in KITT") == true)
        let dispatched = try #require(try temp.store.quickTests.get(id: "aaaaaaaaaaaaaaaa"))
        #expect(dispatched.status == "dispatched" && dispatched.startedAt == nil)
        let campaign = try #require(try temp.store.campaigns.get(id: Self.nightly))
        #expect(campaign.status == "failed" && campaign.error?.contains("launch it again") == true)
        #expect(report.notes.contains { $0.contains("skipped run") })
        #expect(report.notes.count == 3, "\(report.notes)")
        let h100 = try #require(try temp.store.agents.identity(tokenHash: SHA256.hex("plain-old-token")))
        #expect(h100.name == "gpu-h100-2")
    }

    @Test func rowsThatCannotArrive_areSkippedWithTheirReason() throws {
        let temp = try TempStore()
        // kitt already has an agent called gpu-a100-1 (another id): the KITT one must not take it over.
        let other = try temp.store.agents.provisionToken(name: "gpu-a100-1", port: 8090, tokenHash: SHA256.hex("x"))
        let source = try Self.kittCopy(
            in: temp.directory,
            sql: """
                UPDATE runs SET raw_json = 'not json' WHERE id = '8dcfbf503bb8494e';
                UPDATE quick_tests SET result_id = '8dcfbf503bb8494e';
                UPDATE web_campaigns SET config_json = '[1]' WHERE id = 'b78d0711cf054029';
                INSERT INTO agent_settings (agent_id, key, value) VALUES ('eea65a00fa0f46b7', 'gpu_fan', 'loud');
                """)
        let report = try Self.run(source, temp)
        let agents = try #require(report.table("agents"))
        #expect(agents.brought == 1 && agents.skipped.first?.reason.contains("taken in kitt by agent \(other)") == true)
        #expect(try temp.store.agents.identity(tokenHash: SHA256.hex(Self.a100Token)) == nil)
        #expect(report.table("runs")?.skipped.first?.reason.hasPrefix("raw_json: malformed JSON") == true)
        #expect(report.table("runs")?.brought == 10)
        #expect(report.table("metrics")?.skippedInBulk.first?.count == 8)
        #expect(report.table("web_campaigns")?.skipped.first?.reason == "config_json is not a JSON object")
        #expect(report.table("agent_settings")?.skipped.first?.reason == "kitt has no such agent setting")
        #expect(try temp.store.quickTests.get(id: Self.quickTest)?.resultID == nil)
        #expect(report.notes.contains { $0.contains("result 8dcfbf503bb8494e was not brought") })
    }

    @Test func agentEngines_keepOneRowPerEngine_preferringRunningThenInstalled() throws {
        let temp = try TempStore()
        let source = try Self.kittCopy(
            in: temp.directory,
            sql: """
                INSERT INTO agent_engines (agent_id, engine, mode, version, binary_path, status, last_checked) VALUES
                    ('bca7aedd37e845bc', 'vllm', 'docker', '0.6.0', '', 'installed', '2026-12-01T22:51:03'),
                    ('bca7aedd37e845bc', 'vllm', 'native', '0.6.1', '/usr/bin/vllm', 'running', '2026-12-01T22:51:04'),
                    ('bca7aedd37e845bc', 'llama_cpp', 'native', '', '', 'not_installed', '');
                """)
        let report = try Self.run(source, temp)
        let engines = try #require(report.table("agent_engines"))
        #expect(engines.found == 3 && engines.brought == 2)
        #expect(engines.skipped.map(\.row) == ["gpu-a100-1 vllm (docker)"])
        let rows = try Self.read(
            temp.store,
            """
            SELECT engine, CAST(installed AS TEXT), CAST(running AS TEXT), version, binary_path, updated_at
            FROM agent_engines ORDER BY engine
            """
        ) { row in (0..<6).map { row.string($0) } }
        #expect(rows.count == 2)
        #expect(rows.first?.prefix(3) == ["llama_cpp", "0", "0"])
        #expect(rows.last == ["vllm", "1", "1", "0.6.1", "/usr/bin/vllm", "2026-12-01T22:51:04.000000Z"])
    }

    @Test func refuses_otherSchemas_otherFiles_pendingWAL_andItsOwnStore() throws {
        let temp = try TempStore()
        let destination = temp.directory.path + "/kitt.db"
        func refusal(_ source: String, _ destination: String = destination) -> String? {
            do {
                try KITT1Migration.checkSource(source, destinationPath: destination)
                return nil
            } catch {
                return "\(error)"
            }
        }
        let newer = try Self.kittCopy(in: temp.directory, sql: "INSERT INTO schema_version (version) VALUES (12)")
        #expect(refusal(newer)?.contains("KITT schema version 12") == true)
        let older = try Self.kittCopy(in: temp.directory, sql: "DELETE FROM schema_version WHERE version > 9")
        #expect(refusal(older)?.contains("KITT schema version 9") == true)
        let text = temp.directory.path + "/notes.txt"
        try Data("hello, not a database at all.................................................".utf8)
            .write(to: URL(fileURLWithPath: text))
        #expect(refusal(text)?.contains("not a SQLite database") == true)
        #expect(refusal(destination)?.contains("already a kitt store") == true)
        #expect(refusal(temp.directory.path + "/missing.db")?.contains("no such file") == true)

        let pending = try Self.kittCopy(in: temp.directory)
        try Data([1, 2, 3]).write(to: URL(fileURLWithPath: pending + "-wal"))
        #expect(refusal(pending)?.contains("changes not yet in") == true)

        let fine = try Self.kittCopy(in: temp.directory)
        #expect(refusal(fine) == nil)
        #expect(refusal(fine, fine)?.contains("move KITT's database aside") == true)
    }

    @Test func storeRefusesToOpenAKITTDatabase_andLeavesItAsItWas() throws {
        let temp = try TempStore()
        let source = try Self.kittCopy(in: temp.directory)
        let before = try Data(contentsOf: URL(fileURLWithPath: source))
        #expect {
            _ = try Store(path: source)
        } throws: { error in
            "\(error)".contains("KITT 1.x database (schema version 11)") && "\(error)".contains("kitt migrate")
        }
        #expect(try Data(contentsOf: URL(fileURLWithPath: source)) == before)
        for suffix in ["-wal", "-shm", "-journal"] {
            #expect(!FileManager.default.fileExists(atPath: source + suffix), "\(suffix)")
        }
    }
}
