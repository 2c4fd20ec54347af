import Foundation
import KittJSON
import KittPostgres
import KittSQLite
import KittStore
import KittTestSupport
import Testing

/// `kitt migrate --to URL` / `--from URL` through the built binary (issue 15 point 4): the
/// store into PostgreSQL and back into a new file, then the real server on that file
/// answering as the original did. Passwords never appear in what kitt prints.
@Suite(.serialized, .enabled(if: PostgresServer.isAvailable, "\(PostgresServer.unavailableReason ?? "")"))
struct MigratePostgresTests {
    /// The API answers compared between the original store and the copy.
    static let paths = [
        "/api/v1/results?per_page=100", "/api/v1/results?model=m1&per_page=5&page=2",
        "/api/v1/results?engine=sglang&suite_name=quick&per_page=100",
        "/api/v1/results/aggregate?group_by=model&metrics=avg_tps,p50_latency_ms",
        "/api/v1/results/aggregate?group_by=engine&metrics=avg_tps",
        "/api/v1/results/aggregate?group_by=suite_name&metrics=avg_tps",
        "/api/v1/agents", "/api/v1/campaigns", "/api/v1/engines/profiles", "/api/v1/quicktest",
    ]

    func kitt(_ arguments: [String], home: String, databaseURL: String? = nil) throws -> (status: Int32, stdout: String, stderr: String) {
        try #require(FileManager.default.isExecutableFile(atPath: CommandLineTests.kitt), "build kitt first: swift build")
        var environment = CommandLineTests.environment(home: home)
        if let databaseURL { environment[ConnectionInfo.environmentVariable] = databaseURL }
        return try ChildProcess.run(CommandLineTests.kitt, arguments, environment: environment, timeout: 120)
    }

    /// A store with results over three models, two engines and two suites, agents, a
    /// queued quick test, a campaign and an engine profile.
    func seed(_ path: String) throws -> (results: Int, quickTestID: String) {
        let store = try Store(path: path)
        defer { store.close() }
        var documents: [ResultDocument] = []
        for i in 0..<30 {
            let json = """
                {"model": "m\(i % 3)", "engine": "\(i % 2 == 0 ? "vllm" : "sglang")", "suite_name": "\(i % 4 < 2 ? "quick" : "standard")",
                 "timestamp": "2026-02-01T10:\(10 + i / 2):00Z", "passed": true, "total_benchmarks": 1, "passed_count": 1,
                 "failed_count": 0, "total_time_seconds": 3.5, "kitt_version": "1.2.0",
                 "results": [{"test_name": "throughput", "test_version": "1.0", "run_number": 1, "passed": true,
                              "metrics": {"avg_tps": \(Double(i) + 0.25), "p50_latency_ms": \(i * 2)}, "errors": []}]}
                """
            documents.append(try ResultDocument(bytes: Array(json.utf8)))
        }
        _ = try store.results.insertAll(documents)
        let agents: any AgentStoring = store.agents
        let agent = try waitFor {
            agents.register(AgentRegistration(name: "gpu-7", hostname: "gpu-7.lab"), tokenAgentID: nil, installTokenHash: nil, installTokenCutoff: "", completion: $0)
        }
        let test = try store.quickTests.create(NewQuickTest(agentID: agent.agentID, agentName: "gpu-7", modelPath: "/m/a", engineName: "vllm"))
        _ = try store.campaigns.create(name: "sweep", description: "d", agentID: agent.agentID, config: #"{"models": ["a"]}"#)
        var profile = EngineProfileFields()
        profile.name = "vllm-fp8"
        profile.engine = "vllm"
        _ = try store.engineProfiles.create(profile)
        return (documents.count, test.id)
    }

    func answers(_ server: TestServer) throws -> [String: String] {
        var answers: [String: String] = [:]
        for path in Self.paths {
            let response = try server.request("GET", path)
            #expect(response.status == 200, "\(path): \(response)")
            answers[path] = response.text
        }
        return answers
    }

    /// Rows per table from kitt's "  <table>   <n> rows" lines.
    func tableRows(_ output: String) -> [String: Int] {
        var rows: [String: Int] = [:]
        for line in output.split(separator: "\n") where line.hasPrefix("  ") && line.hasSuffix(" rows") {
            let words = line.split(separator: " ")
            if words.count == 3, let n = Int(words[1]) { rows[String(words[0])] = n }
        }
        return rows
    }

    @Test func toPostgres_andBackIntoANewFile_servesTheSameAnswers() throws {
        let home = TempDirectory("kitt-migrate-pg")
        let data = home.path + "/data"
        try FileManager.default.createDirectory(atPath: data, withIntermediateDirectories: true)
        let seeded = try seed(data + "/kitt.db")
        let server = try PostgresServer.get()
        let password = server.password
        let database = try PostgresServer.freshDatabase()
        let url = database.conninfo
        #expect(url.contains(password))

        // A server holds the store: refused, and PostgreSQL is left untouched.
        let original = try TestServer.start(directory: TempDirectory("unused")) { $0.dataDirectory = data }
        let before = try answers(original)
        #expect(before["/api/v1/results?per_page=100"]?.contains("\"total\":30") == true, "\(before)")
        let refused = try kitt(["migrate", "--to", url, "--data-dir", data], home: home.path)
        #expect(refused.status == 1)
        #expect(refused.stderr.contains("is using \(data)/kitt.db; stop it first"), "\(refused.stderr)")
        original.stop()
        func holdsKittSchema() throws -> Bool {
            let connection = try PostgresConnection(database)
            defer { connection.close() }
            return try connection.queryOne("SELECT to_regclass('runs') IS NOT NULL")?.bool(0) == true
        }
        #expect(try !holdsKittSchema())

        // There, the URL from KITT_DATABASE_URL.
        let there = try kitt(["migrate", "--to", "--data-dir", data], home: home.path, databaseURL: url)
        #expect(there.status == 0, "\(there.stderr)")
        let thereRows = tableRows(there.stdout)
        #expect(thereRows["runs"] == seeded.results && thereRows["metrics"] == seeded.results * 2, "\(there.stdout)")
        #expect(thereRows["agents"] == 1 && thereRows["quick_tests"] == 1 && thereRows["agent_commands"] == 1)
        #expect(there.stdout.contains("copied \(thereRows.values.reduce(0, +)) rows in 15 tables from \(data)/kitt.db into"))
        #expect(there.stdout.contains(":***@127.0.0.1"), "\(there.stdout)")
        // kitt web on PostgreSQL answers as it did on SQLite.
        let onPostgres = try TestServer.start(directory: TempDirectory("kitt-on-pg")) { $0.databaseURL = url }
        let served = try answers(onPostgres)
        onPostgres.stop()
        for path in Self.paths { #expect(served[path] == before[path], "PostgreSQL \(path)") }

        // Twice is refused: the database is no longer empty.
        let twice = try kitt(["migrate", "--to", url, "--data-dir", data], home: home.path)
        #expect(twice.status == 1 && twice.stderr.contains("already holds kitt data"), "\(twice.stderr)")

        // Back, into a new file (its directory created), with another session on the database: warned.
        let copyData = home.path + "/copy"
        let otherSession = try PostgresConnection(database)
        let back = try kitt(["migrate", "--from", url, "--data-dir", copyData], home: home.path)
        otherSession.close()
        #expect(back.status == 0, "\(back.stderr)")
        #expect(back.stderr.contains("other session(s) are connected"), "\(back.stderr)")  // at least ours
        #expect(tableRows(back.stdout) == thereRows, "\(back.stdout)")
        #expect(back.stdout.contains("into \(copyData)/kitt.db in "), "\(back.stdout)")
        // Into a file holding data: refused, the file unchanged.
        let size = try FileManager.default.attributesOfItem(atPath: copyData + "/kitt.db")[.size] as? Int
        let again = try kitt(["migrate", "--from", url, "--db", copyData + "/kitt.db"], home: home.path)
        #expect(again.status == 1 && again.stderr.contains("the SQLite store already holds kitt data"), "\(again.stderr)")
        #expect(try FileManager.default.attributesOfItem(atPath: copyData + "/kitt.db")[.size] as? Int == size)
        // From a database that holds no kitt store: refused, no file left behind, no schema created.
        let empty = try PostgresServer.freshDatabase()
        let none = try kitt(["migrate", "--from", empty.conninfo, "--db", home.path + "/none.db"], home: home.path)
        #expect(none.status == 1 && none.stderr.contains("holds no kitt store"), "\(none.stderr)")
        #expect(!FileManager.default.fileExists(atPath: home.path + "/none.db"))

        // Into another program's SQLite database: refused, the file unchanged.
        let foreign = home.path + "/notes.db"
        try ForeignDatabase.make(foreign)
        let foreignBefore = try Data(contentsOf: URL(fileURLWithPath: foreign))
        let intoForeign = try kitt(["migrate", "--from", url, "--db", foreign], home: home.path)
        #expect(intoForeign.status == 1 && intoForeign.stderr.contains("is not a kitt store"), "\(intoForeign.stderr)")
        #expect(try Data(contentsOf: URL(fileURLWithPath: foreign)) == foreignBefore)

        for output in [refused, there, twice, back, again, none, intoForeign] {
            #expect(!output.stdout.contains(password) && !output.stderr.contains(password), "\(output)")
        }

        // The real server on the copy answers as it did on the original, byte for byte.
        let copy = try TestServer.start(directory: TempDirectory("unused")) { $0.dataDirectory = copyData }
        defer { copy.stop() }
        let after = try answers(copy)
        for path in Self.paths { #expect(after[path] == before[path], "\(path)") }
        let test = try copy.request("GET", "/api/v1/quicktest/\(seeded.quickTestID)")
        #expect(test.json?["status"]?.stringValue == "queued", "\(test)")
    }

    /// A connection that fails names the URL with its password masked; exit 1.
    @Test func anUnreachableDatabase_failsWithThePasswordMasked() throws {
        let home = TempDirectory("kitt-migrate-pg")
        let secret = "s3cret-\(UUID().uuidString.prefix(8))"
        let result = try kitt(["migrate", "--from", "postgres://kitt:\(secret)@127.0.0.1:1/kitt", "--db", home.path + "/x.db"], home: home.path)
        #expect(result.status == 1, "\(result)")
        #expect(result.stderr.hasPrefix("kitt migrate: ") && !result.stderr.contains(secret), "\(result.stderr)")
        #expect(!FileManager.default.fileExists(atPath: home.path + "/x.db"))
    }
}

/// `kitt migrate` usage errors: exit 2 and one clear line, nothing created.
@Suite struct MigrateUsageTests {
    @Test(arguments: [
        (["migrate", "--to"], "--to needs a PostgreSQL URL"),
        (["migrate", "--from", "--db", "x.db"], "--from needs a PostgreSQL URL"),
        (["migrate", "--to", "postgres://h/db", "--from", "postgres://h/db"], "not both"),
        (["migrate", "--to", "postgres://h/db", "--to", "postgres://h/other"], "--to given twice"),
        (["migrate", "--to", "postgres://h/db", "kitt-1x.db"], "takes no FILE"),
        (["migrate", "--to", "postgres://h/db?nonsense=1"], "invalid database URL"),
        (["migrate", "--from", "kitt-1x.db"], "--from takes a PostgreSQL URL"),
        (["migrate", "--to", "mysql://root:other-pw@db/kitt"], "--to takes a PostgreSQL URL"),
        (["migrate", "--too", "postgres://h/db"], "did you mean '--to'"),
        (["migrate"], "expected exactly one KITT database file, or --to/--from a PostgreSQL URL"),
    ])
    func usageErrors(arguments: [String], message: String) throws {
        let home = TempDirectory("kitt-migrate-usage")
        try #require(FileManager.default.isExecutableFile(atPath: CommandLineTests.kitt), "build kitt first: swift build")
        let result = try ChildProcess.run(CommandLineTests.kitt, arguments, environment: CommandLineTests.environment(home: home.path))
        #expect(result.status == 2, "\(arguments): \(result)")
        #expect(result.stderr.hasPrefix("kitt migrate: ") && result.stderr.contains(message), "\(result.stderr)")
        #expect(!result.stderr.contains("other-pw"), "a URL that is not PostgreSQL's is not echoed")
        #expect(!FileManager.default.fileExists(atPath: home.path + "/.kitt"))
    }

    @Test func aKITTDatabaseWithKITT_DATABASE_URLSet_isNotedToLandInSQLite() throws {
        let home = TempDirectory("kitt-migrate-usage")
        var environment = CommandLineTests.environment(home: home.path)
        environment["KITT_DATABASE_URL"] = "postgres://kitt:hidden-pw@127.0.0.1:1/kitt"
        let result = try ChildProcess.run(CommandLineTests.kitt, ["migrate", home.path + "/none.db"], environment: environment)
        #expect(result.status == 1)
        #expect(result.stderr.contains("KITT_DATABASE_URL is set, but a KITT 1.x database goes into the SQLite store"), "\(result.stderr)")
        #expect(result.stderr.contains("no such file") && !result.stderr.contains("hidden-pw"), "\(result.stderr)")
    }

    @Test func helpShowsAllThreeForms_andCompletionOffersTheFlags() throws {
        let home = TempDirectory("kitt-migrate-usage")
        let help = try ChildProcess.run(CommandLineTests.kitt, ["help", "migrate"], environment: CommandLineTests.environment(home: home.path))
        #expect(help.status == 0)
        for form in ["kitt migrate FILE", "kitt migrate --to URL", "kitt migrate --from URL", "KITT_DATABASE_URL", "PGPASSWORD"] {
            #expect(help.stdout.contains(form), "\(form)")
        }
        let completion = try ChildProcess.run(CommandLineTests.kitt, ["completion", "bash"], environment: CommandLineTests.environment(home: home.path))
        let line = completion.stdout.split(separator: "\n").first { $0.contains("migrate) words=") } ?? ""
        #expect(line.contains("--to ") && line.contains("--from ") && line.contains("--db") && !line.contains("--database"), "\(line)")
    }
}

/// Another program's SQLite database: one table of its own.
enum ForeignDatabase {
    static func make(_ path: String) throws {
        let database = try Database(path: path, readerCount: 1)
        defer { database.close() }
        try database.write {
            try $0.execute("CREATE TABLE notes (id INTEGER PRIMARY KEY, text TEXT); INSERT INTO notes (text) VALUES ('mine')")
        }
        _ = try database.checkpoint()
    }
}
