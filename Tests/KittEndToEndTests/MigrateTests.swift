import Foundation
import KittJSON
import KittNet
import KittSQLite
import KittStore
import KittTestSupport
import Testing

/// `kitt migrate` through the built binary on a copy of the real KITT 1.x database
/// (Tests/Fixtures/kitt-1x-v11.db), then the real server over TLS on the migrated store.
@Suite(.serialized) struct MigrateTests {
    static let fixture = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
        .appendingPathComponent("Fixtures/kitt-1x-v11.db").path
    static let a100Token = "da17de24e9ac1f9c42e89f9b4fd7a37c4c3584b29ae9205ceeb6f272413ef10c"

    func kitt(_ arguments: [String], home: String) throws -> (status: Int32, stdout: String, stderr: String) {
        let kitt = CommandLineTests.kitt
        try #require(FileManager.default.isExecutableFile(atPath: kitt), "build kitt first: swift build")
        return try ChildProcess.run(kitt, arguments, environment: CommandLineTests.environment(home: home))
    }

    /// A copy of the fixture at `path` (the copy is what gets migrated; the fixture stays untouched).
    func copyFixture(to path: String) throws {
        try FileManager.default.copyItem(atPath: Self.fixture, toPath: path)
    }

    /// `table → (found, brought, skipped)` from the report's per-table lines.
    func counts(_ report: String) -> [String: [Int]] {
        var counts: [String: [Int]] = [:]
        for line in report.split(separator: "\n") where line.contains(" found ") {
            let words = line.split(whereSeparator: { $0 == " " || $0 == "," })
            guard words.count == 7, let table = words.first else { continue }
            counts[String(table)] = [words[2], words[4], words[6]].compactMap { Int($0) }
        }
        return counts
    }

    func sha256(_ path: String) throws -> String {
        SHA256.hex([UInt8](try Data(contentsOf: URL(fileURLWithPath: path))))
    }

    @Test func migrate_thenOldAgentTokenHeartbeats_andEveryRunCampaignTestAndLogIsServed() throws {
        let directory = TempDirectory("kitt-migrate")
        let source = directory.path + "/kitt-1x.db"
        let data = directory.path + "/data"
        try copyFixture(to: source)
        let before = try sha256(source)

        let first = try kitt(["migrate", source, "--data-dir", data], home: directory.path)
        #expect(first.status == 0, "\(first.stderr)")
        let brought = counts(first.stdout)
        let expected = [
            "agents": 2, "agent_settings": 12, "web_campaigns": 2, "quick_tests": 1, "quick_test_logs": 1,
            "runs": 11, "benchmarks": 33, "metrics": 88, "hardware": 11, "engine_profiles": 1,
        ]
        for (table, count) in expected { #expect(brought[table] == [count, count, 0], "\(table): \(first.stdout)") }

        // Twice adds nothing, and says why.
        let second = try kitt(["migrate", source, "--data-dir", data], home: directory.path)
        #expect(second.status == 0, "\(second.stderr)")
        for (table, count) in expected { #expect(counts(second.stdout)[table] == [count, 0, count], "\(table)") }
        #expect(second.stdout.contains("already in kitt"))

        // The source is exactly as it was, with nothing created beside it.
        #expect(try sha256(source) == before)
        for suffix in ["-wal", "-shm", "-journal"] { #expect(!FileManager.default.fileExists(atPath: source + suffix)) }

        let kittData = try Connection.withImmutableFile(source) { db in
            (runs: try db.query("SELECT id, raw_json FROM runs").map { ($0.string(0) ?? "", $0.string(1) ?? "") },
             config: try db.queryOne("SELECT config_json FROM web_campaigns WHERE name = 'nightly-a100'")?.string(0))
        }

        let server = try E2E.server { $0.dataDirectory = data }
        defer { server.stop() }
        // The installed agent's old token: heartbeat by name and by id, settings as KITT had them.
        for agent in ["gpu-a100-1", "bca7aedd37e845bc"] {
            let beat = try server.request(
                "POST", "/api/v1/agents/\(agent)/heartbeat", json: ["status": "online"], token: Self.a100Token)
            #expect(beat.status == 200, "\(beat)")
            #expect(beat.json?["agent_id"]?.stringValue == "bca7aedd37e845bc")
            #expect(beat.json?["settings"]?["heartbeat_interval_s"]?.stringValue == "20")
            #expect(beat.json?["settings"]?["model_storage_dir"]?.stringValue == "/data/models")
        }
        // A KITT agent restarting registers again with its token: same agent, KITT's interval.
        let register = try server.request(
            "POST", "/api/v1/agents/register", json: ["name": "gpu-a100-1", "hostname": "gpu-a100-1.lab"],
            token: Self.a100Token)
        #expect(register.status == 201 || register.status == 200, "\(register)")
        #expect(register.json?["agent_id"]?.stringValue == "bca7aedd37e845bc")
        #expect(register.json?["heartbeat_interval_s"]?.intValue == 20)
        let otherAgent = try server.request(
            "POST", "/api/v1/agents/gpu-h100-2/heartbeat", json: ["status": "online"], token: Self.a100Token)
        #expect(otherAgent.status == 403)
        let agent = try server.request("GET", "/api/v1/agents/gpu-a100-1")
        #expect(agent.json?["hostname"]?.stringValue == "gpu-a100-1.lab" && agent.json?["notes"]?.stringValue == "rack 4")
        #expect(agent.json?["status"]?.stringValue == "online" && !agent.text.contains("token"))

        // Every run, its document as KITT kept it.
        let results = try server.request("GET", "/api/v1/results?per_page=100")
        #expect(results.json?["total"]?.intValue == 11)
        let items = results.json?["items"]?.arrayValue ?? []
        #expect(Set(items.compactMap { $0["id"]?.stringValue }) == Set(kittData.runs.map(\.0)))
        for (id, raw) in kittData.runs {
            let item = try server.request("GET", "/api/v1/results/\(id)")
            var served = try #require(item.json?.objectValue, "\(id): \(item)")
            _ = served.removeValue(forKey: "id")
            #expect(JSON.object(served) == (try JSON(parsing: Array(raw.utf8))), "\(id)")
        }
        let aggregate = try server.request("GET", "/api/v1/results/aggregate?group_by=engine&metrics=avg_tps")
        #expect(aggregate.status == 200 && aggregate.text.contains("exllamav2"), "\(aggregate)")

        // Campaigns with their config text as stored (KITT-only keys included).
        let campaigns = try server.request("GET", "/api/v1/campaigns?per_page=100")
        #expect(campaigns.json?["total"]?.intValue == 2)
        let config = try #require(kittData.config)
        let nightly = try server.request("GET", "/api/v1/campaigns/d33267cc20e24299")
        #expect(nightly.text.contains(config), "\(nightly)")
        #expect(nightly.json?["config"] == (try JSON(parsing: Array(config.utf8))))
        #expect(nightly.json?["config"]?["disk"]?["min_free_gb"]?.intValue == 50)

        // The engine profile, through KITT's engines API.
        let profiles = try server.request("GET", "/api/v1/engines/profiles?engine=vllm")
        let profile = profiles.json?["profiles"]?.arrayValue?.first
        #expect(profile?["name"]?.stringValue == "vllm-fp8" && profile?["id"]?.stringValue == "b09a2132f241455b", "\(profiles)")
        #expect(profile?["runtime_config"]?["kv_cache_dtype"]?.stringValue == "fp8")

        // The quick test and its log line.
        let test = try server.request("GET", "/api/v1/quicktest/4d0c8fb43169457c")
        #expect(test.json?["status"]?.stringValue == "completed" && test.json?["agent_name"]?.stringValue == "gpu-a100-1")
        let logs = try server.request("GET", "/api/v1/quicktest/4d0c8fb43169457c/logs")
        #expect(logs.json?["lines"]?.arrayValue?.map { $0["line"]?.stringValue } == ["starting vllm"])
    }

    @Test func otherSchemasAndOtherFiles_areRefused_withAClearMessage() throws {
        let directory = TempDirectory("kitt-migrate")
        let newer = directory.path + "/kitt-v12.db"
        try copyFixture(to: newer)
        let database = try Database(path: newer)
        try database.write { try $0.execute("INSERT INTO schema_version (version) VALUES (12)") }
        database.close()
        let text = directory.path + "/notes.db"
        try Data(repeating: 0x41, count: 4096).write(to: URL(fileURLWithPath: text))

        for (file, message) in [(newer, "KITT schema version 12"), (text, "not a SQLite database"),
                                (directory.path + "/none.db", "no such file")] {
            let result = try kitt(["migrate", file, "--data-dir", directory.path + "/data"], home: directory.path)
            #expect(result.status == 1, "\(file): \(result.status)")
            #expect(result.stderr.hasPrefix("kitt migrate: ") && result.stderr.contains(message), "\(result.stderr)")
            #expect(result.stdout.isEmpty)
        }
        // Nothing was created for a refused file.
        #expect(!FileManager.default.fileExists(atPath: directory.path + "/data"))
        let usage = try kitt(["migrate"], home: directory.path)
        #expect(usage.status == 2 && usage.stderr.contains("kitt migrate --help"))
    }

    @Test func web_onAKITTDatabase_saysSo_namesKittMigrate_andChangesNothing() throws {
        let directory = TempDirectory("kitt-migrate")
        try copyFixture(to: directory.path + "/kitt.db")
        let before = try sha256(directory.path + "/kitt.db")
        let result = try kitt(
            ["web", "--host", "127.0.0.1", "--port", "0", "--data-dir", directory.path], home: directory.path)
        #expect(result.status == 1)
        #expect(result.stderr.contains("is a KITT 1.x database (schema version 11)"), "\(result.stderr)")
        #expect(result.stderr.contains("kitt migrate \(directory.path)/kitt.db.kitt1 --db \(directory.path)/kitt.db"))
        #expect(!result.stderr.contains("migration 1"), "\(result.stderr)")
        #expect(try sha256(directory.path + "/kitt.db") == before)
        #expect(!FileManager.default.fileExists(atPath: directory.path + "/auth-token"))

        // Following the hint works: the moved file migrates into the same data dir.
        try FileManager.default.moveItem(atPath: directory.path + "/kitt.db", toPath: directory.path + "/kitt.db.kitt1")
        let migrated = try kitt(
            ["migrate", directory.path + "/kitt.db.kitt1", "--db", directory.path + "/kitt.db"], home: directory.path)
        #expect(migrated.status == 0, "\(migrated.stderr)")
        #expect(counts(migrated.stdout)["runs"] == [11, 11, 0])
    }
}
