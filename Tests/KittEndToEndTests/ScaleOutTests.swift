import Dispatch
import Foundation
import KittJSON
import KittTestSupport
import Synchronization
import Testing

#if canImport(Glibc)
    import Glibc
#endif

/// Two real `kitt web` processes on one PostgreSQL database (issue 15 point 5) behave as one
/// server: commands handed out exactly once under concurrent heartbeats to both, events seen
/// on both (one id sequence, `Last-Event-ID` replay on the other instance), and a campaign that
/// continues after the instance running it is killed with SIGKILL, losing nothing acknowledged.
@Suite(.serialized, .enabled(if: PostgresServer.isAvailable, "\(PostgresServer.unavailableReason ?? "")"))
struct ScaleOutTests {
    static let token = "scale-out-token"

    /// One `kitt web --database URL` child process with its own data dir (and so its own CA).
    final class Instance: @unchecked Sendable {
        let process: ChildProcess
        let directory: TempDirectory
        let port: Int
        var caFile: String { directory.path + "/certs/ca.pem" }

        /// `port` 0 picks a free one; `directory` keeps the data dir (and CA) of an earlier run.
        init(database: String, port: Int = 0, directory: TempDirectory? = nil, extra: [String] = []) throws {
            self.directory = directory ?? TempDirectory("kitt-scale")
            process = try ChildProcess(
                APIHarness.repositoryRoot + "/.build/debug/kitt",
                [
                    "web", "--host", "127.0.0.1", "--port", String(port), "--data-dir", self.directory.path, "--auth-token",
                    ScaleOutTests.token, "--database", database, "--quiet",
                    "--config-dir", APIHarness.repositoryRoot + "/Config",
                ] + extra)
            guard process.waitForOutput("Store: PostgreSQL") else {
                throw PostgresServer.Failure("kitt web did not start: \(process.stdout) \(process.stderr)")
            }
            // "kitt 0.9.0 listening on 127.0.0.1:PORT (...)"
            let banner = process.stdout.split(separator: "\n").first { $0.contains("listening on 127.0.0.1:") } ?? ""
            let afterColon = banner.split(separator: ":").dropFirst().first ?? ""
            guard let port = Int(afterColon.prefix { $0.isNumber }) else {
                throw PostgresServer.Failure("no port in: \(banner)")
            }
            self.port = port
        }

        func connect() throws -> RawClient { try RawClient(port: port, caFile: caFile, serverName: "localhost") }

        /// One request as the admin on a new connection.
        func call(_ method: String, _ path: String, _ body: JSON? = nil) throws -> TestResponse {
            try ScaleOutTests.call(try connect(), method, path, body)
        }

        /// An open SSE stream (after its `: connected` comment).
        func stream(lastEventID: Int? = nil) throws -> RawClient {
            let client = try connect()
            var head = "GET /api/v1/events/stream HTTP/1.1\r\nHost: localhost\r\n"
            if let lastEventID { head += "Last-Event-ID: \(lastEventID)\r\n" }
            try client.send(head + "\r\n")
            _ = try client.readUntil(": connected\n\n")
            return client
        }

        func kill() {
            process.signal(SIGKILL)
            _ = process.waitForExit(timeout: 10)
        }

        func stop() {
            process.signal(SIGTERM)
            _ = process.waitForExit(timeout: 15)
        }
    }

    static func url() throws -> String { try PostgresServer.freshDatabaseURL() }

    /// One request as the admin on `client` (a new connection, closed after the answer).
    static func call(_ client: RawClient, _ method: String, _ path: String, _ body: JSON? = nil) throws -> TestResponse {
        let bytes = body?.serialized() ?? []
        var head = "\(method) \(path) HTTP/1.1\r\nHost: localhost\r\nConnection: close\r\n"
        head += "Authorization: Bearer \(token)\r\n"
        if body != nil || method == "POST" { head += "Content-Type: application/json\r\nContent-Length: \(bytes.count)\r\n" }
        try client.send(Array((head + "\r\n").utf8) + bytes)
        return try client.readResponse()
    }

    static func register(_ instance: Instance, name: String) throws -> String {
        let registered = try instance.call("POST", "/api/v1/agents/register", ["name": .string(name), "hostname": .string(name)])
        #expect(registered.status == 201, "\(registered)")
        return try #require(registered.json?["agent_id"]?.stringValue)
    }

    static func resultData(model: String, run: Int) -> JSON {
        [
            "model": .string(model), "engine": "vllm", "suite_name": "quick", "timestamp": "2026-12-01T00:00:00Z",
            "passed": true, "total_benchmarks": 1, "passed_count": 1, "failed_count": 0, "total_time_seconds": 1.5,
            "kitt_version": "1",
            "results": [["test_name": "throughput", "test_version": "1", "run_number": .int(run),
                         "passed": true, "metrics": ["avg_tps": 10.5], "errors": []]],
        ]
    }

    /// Every `id:`/`event:`/`data:` frame received so far on an SSE connection.
    static func frames(in text: String) -> [(id: Int, type: String, data: JSON)] {
        text.components(separatedBy: "\n\n").compactMap { frame in
            var id: Int?
            var type: String?
            var data: JSON?
            for line in frame.split(separator: "\n") {
                if line.hasPrefix("id: ") { id = Int(line.dropFirst(4)) }
                if line.hasPrefix("event: ") { type = String(line.dropFirst(7)) }
                if line.hasPrefix("data: ") { data = try? JSON(parsing: String(line.dropFirst(6))) }
            }
            guard let id, let type, let data else { return nil }
            return (id, type, data)
        }
    }

    @Test func commandsAreHandedOutExactlyOnce_underConcurrentHeartbeatsToBothInstances() throws {
        let database = try Self.url()
        let a = try Instance(database: database)
        defer { a.stop() }
        let b = try Instance(database: database)
        defer { b.stop() }
        let agentID = try Self.register(a, name: "gpu-once")

        // 24 quick tests queued through both instances.
        var queued: Set<String> = []
        for index in 0..<24 {
            let instance = index.isMultiple(of: 2) ? a : b
            let created = try instance.call(
                "POST", "/api/v1/quicktest",
                ["agent_id": .string(agentID), "model_path": .string("org/m\(index)"), "engine_name": "vllm"])
            #expect(created.status == 202, "\(created)")
            queued.insert(try #require(created.json?["command_id"]?.stringValue))
        }

        // Four threads heartbeat at once, two per instance, until every command came out.
        let handedOut = Mutex<[String]>([])
        let failures = Mutex<[String]>([])
        let group = DispatchGroup()
        for worker in 0..<4 {
            let instance = worker < 2 ? a : b
            DispatchQueue.global().async(group: group) {
                for _ in 0..<60 {
                    guard handedOut.withLock({ $0.count }) < 24 else { return }
                    do {
                        let beat = try instance.call("POST", "/api/v1/agents/\(agentID)/heartbeat", ["status": "idle"])
                        let ids = (beat.json?["commands"]?.arrayValue ?? []).compactMap { $0["command_id"]?.stringValue }
                        handedOut.withLock { $0 += ids }
                    } catch {
                        failures.withLock { $0.append("\(error)") }
                    }
                }
            }
        }
        #expect(group.wait(timeout: .now() + 120) == .success)
        let ids = handedOut.withLock { $0 }
        #expect(failures.withLock { $0 }.isEmpty)
        #expect(ids.count == 24, "each command exactly once: \(ids.count) handed out")
        #expect(Set(ids) == queued)
        // Both instances agree that every test was dispatched.
        for instance in [a, b] {
            let list = try instance.call("GET", "/api/v1/quicktest?agent_id=\(agentID)&per_page=100")
            let statuses = (list.json?["items"]?.arrayValue ?? []).compactMap { $0["status"]?.stringValue }
            #expect(statuses.count == 24 && statuses.allSatisfy { $0 == "dispatched" }, "\(statuses)")
        }
    }

    @Test func readinessAsksTheSharedStore() throws {
        let instance = try Instance(database: try Self.url())
        defer { instance.stop() }
        let ready = try instance.call("GET", "/api/v1/ready")
        #expect(ready.status == 200)
        #expect(ready.json?["store"]?.stringValue == "postgresql")
        #expect(ready.json?["status"]?.stringValue == "ready")
    }

    @Test func textWithNULIsA400OnPostgreSQL_andChangesNothing() throws {
        let instance = try Instance(database: try Self.url())
        defer { instance.stop() }
        let lookup = try instance.call("GET", "/api/v1/agents/a%00b")
        #expect(lookup.status == 400, "\(lookup)")
        #expect(lookup.json?["error"]?.stringValue?.contains("NUL") == true)
        let register = try instance.call("POST", "/api/v1/agents/register", ["name": "gpu\u{0}x", "hostname": "h"])
        #expect(register.status == 400, "\(register)")
        let agentID = try Self.register(instance, name: "gpu-nul")
        let report = try instance.call(
            "POST", "/api/v1/agents/\(agentID)/results",
            ["command_id": "c", "status": "completed", "result_data": Self.resultData(model: "m\u{0}", run: 1)])
        #expect(report.status == 400, "\(report)")
        #expect(try instance.call("GET", "/api/v1/results").json?["total"]?.intValue == 0)
        #expect(try instance.call("GET", "/api/v1/agents").json?["total"]?.intValue == 1)
    }

    @Test func kittImportIntoPostgreSQL_isSeenByARunningInstanceAtOnce_andResultsDirImportsAtStart() throws {
        let database = try Self.url()
        let instance = try Instance(database: database)
        defer { instance.stop() }
        let files = TempDirectory("kitt-import-pg")
        func write(run: Int) throws {
            try FileManager.default.createDirectory(atPath: files.path + "/run\(run)", withIntermediateDirectories: true)
            try Self.resultData(model: "imported-\(run)", run: run).serialized().withUnsafeBufferPointer {
                try Data($0).write(to: URL(fileURLWithPath: files.path + "/run\(run)/metrics.json"))
            }
        }
        for run in 1...3 { try write(run: run) }
        let home = TempDirectory("kitt-import-home")
        let environment = CommandLineTests.environment(home: home.path)
        let first = try ChildProcess.run(
            CommandLineTests.kitt, ["import", files.path, "--database", database], environment: environment)
        #expect(first.status == 0, "\(first)")
        #expect(first.stdout.contains("imported 3 result(s), skipped 0 already imported, 0 invalid"), "\(first.stdout)")
        #expect(try instance.call("GET", "/api/v1/results").json?["total"]?.intValue == 3)
        let aggregate = try instance.call("GET", "/api/v1/results/aggregate?group_by=model&metric=avg_tps")
        #expect(aggregate.json?.arrayValue?.count == 3)
        // Again, through KITT_DATABASE_URL: nothing new.
        var withURL = environment
        withURL["KITT_DATABASE_URL"] = database
        let again = try ChildProcess.run(CommandLineTests.kitt, ["import", files.path], environment: withURL)
        #expect(again.stdout.contains("imported 0 result(s), skipped 3 already imported"), "\(again.stdout)")
        // `kitt web --results-dir` on PostgreSQL imports the directory at start, as on SQLite.
        try write(run: 4)
        let second = try Instance(database: database, extra: ["--results-dir", files.path])
        defer { second.stop() }
        try waitFor("the results dir imported", timeout: 20) {
            try second.call("GET", "/api/v1/results").json?["total"]?.intValue == 4
        }
    }

    @Test func eventsFromEitherInstanceReachSubscribersOnBoth_withOneIdSequence() throws {
        let database = try Self.url()
        let a = try Instance(database: database)
        defer { a.stop() }
        let b = try Instance(database: database)
        defer { b.stop() }
        let onA = try a.stream()
        let onB = try b.stream()

        let first = try Self.register(a, name: "gpu-events-a")
        let second = try Self.register(b, name: "gpu-events-b")
        for stream in [onA, onB] {
            _ = try stream.readUntil(second)
        }
        let seenOnA = Self.frames(in: onA.buffered).filter { $0.type == "agent_status" }
        let seenOnB = Self.frames(in: onB.buffered).filter { $0.type == "agent_status" }
        #expect(seenOnA.map(\.id) == seenOnB.map(\.id), "one id sequence on both instances")
        #expect(seenOnA.compactMap { $0.data["agent_id"]?.stringValue } == [first, second])
        #expect(seenOnB.compactMap { $0.data["agent_id"]?.stringValue } == [first, second])
        let ids = seenOnA.map(\.id)
        #expect(ids == ids.sorted() && Set(ids).count == ids.count)

        // A subscriber that saw the first event on A reconnects to B and gets exactly the rest.
        let firstID = try #require(ids.first)
        let replayed = try b.stream(lastEventID: firstID)
        _ = try replayed.readUntil(second)
        let replay = Self.frames(in: replayed.buffered).filter { $0.type == "agent_status" }
        #expect(replay.map(\.id) == Array(ids.dropFirst()))
    }

    @Test func aCampaignContinuesWhenTheInstanceRunningItIsKilled_andNothingAcknowledgedIsLost() throws {
        let database = try Self.url()
        let a = try Instance(database: database)
        // A takes the campaign lease first; B starts once A holds it.
        #expect(a.process.waitForOutput("Campaigns: this instance runs them now"))
        let b = try Instance(database: database)
        defer { b.stop() }
        #expect(try a.call("GET", "/metrics").text.contains("\nkitt_campaign_runner_leader 1\n"))
        #expect(try b.call("GET", "/metrics").text.contains("\nkitt_campaign_runner_leader 0\n"))
        var aAlive = true
        defer { if aAlive { a.stop() } }

        let agentID = try Self.register(b, name: "gpu-takeover")
        let created = try b.call(
            "POST", "/api/v1/campaigns/",
            [
                "name": "takeover", "agent_id": .string(agentID),
                "config": ["models": [["name": "org/m1"], ["name": "org/m2"], ["name": "org/m3"]],
                           "engines": [["name": "vllm"]], "benchmarks": ["throughput"]],
            ])
        #expect(created.status == 201, "\(created)")
        let campaignID = try #require(created.json?["id"]?.stringValue)
        // Launched through B: A (the lease holder) picks it up on its next reconcile.
        #expect(try b.call("POST", "/api/v1/campaigns/\(campaignID)/launch").status == 202)

        // The fake agent talks only to B; after the first run, A is killed.
        var acknowledged: [String] = []
        var ran: [String] = []
        var status = ""
        let deadline = Date().addingTimeInterval(60)
        while Date() < deadline, status != "completed", status != "failed" {
            let beat = try b.call("POST", "/api/v1/agents/\(agentID)/heartbeat", ["status": "idle"])
            #expect(beat.status == 200)
            for command in beat.json?["commands"]?.arrayValue ?? [] {
                let testID = try #require(command["test_id"]?.stringValue)
                let commandID = try #require(command["command_id"]?.stringValue)
                let model = command["payload"]?["model_path"]?.stringValue ?? ""
                ran.append(model)
                if ran.count == 2, aAlive {
                    // The second run is in flight and A runs the campaign: kill it mid-run.
                    a.kill()
                    aAlive = false
                }
                let result = try b.call(
                    "POST", "/api/v1/agents/\(agentID)/results",
                    ["command_id": .string(commandID), "test_id": .string(testID), "status": "completed",
                     "result_data": Self.resultData(model: model, run: ran.count)])
                #expect(result.status == 202, "\(result)")
                acknowledged.append(try #require(result.json?["result_id"]?.stringValue))
            }
            status = try b.call("GET", "/api/v1/campaigns/\(campaignID)").json?["status"]?.stringValue ?? ""
            usleep(50_000)
        }
        #expect(!aAlive, "the instance running the campaign was killed")
        let metrics = try b.call("GET", "/metrics").text
        #expect(metrics.contains("\nkitt_campaign_runner_leader 1\n"), "B reports it runs the campaigns now")
        #expect(b.process.stdout.contains("Campaigns: this instance runs them now"), "B took the campaign over")
        #expect(status == "completed")
        #expect(ran == ["org/m1", "org/m2", "org/m3"], "each run once, in order: \(ran)")
        let campaign = try b.call("GET", "/api/v1/campaigns/\(campaignID)").json
        #expect(campaign?["succeeded"]?.intValue == 3)
        // Every acknowledged result is there.
        for id in acknowledged {
            #expect(try b.call("GET", "/api/v1/results/\(id)").status == 200)
        }
        #expect(acknowledged.count == 3)
    }
}

/// `--database` on the command line: what it refuses before anything starts, and the error a
/// machine without libpq gets (kitt itself starts without it: only this path loads it).
@Suite struct DatabaseFlagTests {
    func run(_ arguments: [String], extraEnvironment: [String: String] = [:]) throws
        -> (status: Int32, stdout: String, stderr: String)
    {
        let home = TempDirectory("kitt-db-flag")
        let environment = CommandLineTests.environment(home: home.path).merging(extraEnvironment) { $1 }
        return try ChildProcess.run(
            CommandLineTests.kitt, ["web", "--port", "0", "--data-dir", home.path + "/data"] + arguments,
            environment: environment)
    }

    @Test func aURLThatIsNotPostgreSQLIsAUsageError() throws {
        let result = try run(["--database", "mysql://root@db/kitt"])
        #expect(result.status == 2)
        #expect(result.stderr.contains("--database takes a PostgreSQL URL"), "\(result.stderr)")
    }

    @Test func dbAndDatabaseTogetherAreAUsageError_alsoFromTheEnvironment() throws {
        let flags = try run(["--db", "/tmp/x.db", "--database", "postgres://kitt@127.0.0.1:1/kitt"])
        #expect(flags.status == 2 && flags.stderr.contains("alternatives"), "\(flags.stderr)")
        let environment = try run(
            ["--db", "/tmp/x.db"], extraEnvironment: ["KITT_DATABASE_URL": "postgres://kitt@127.0.0.1:1/kitt"])
        #expect(environment.status == 2 && environment.stderr.contains("alternatives"), "\(environment.stderr)")
    }

    @Test func legacyOrResultsDirWithoutWhatTheyNeedAreRefused() throws {
        let legacy = try run(["--legacy", "--database", "postgres://kitt@127.0.0.1:1/kitt"])
        #expect(legacy.status != 0 && legacy.stderr.contains("--legacy reads"), "\(legacy.stderr)")
    }

    @Test func withoutLibpqTheErrorSaysWhatToInstall_andTheWordPasswordNeverAppears() throws {
        let result = try run(
            ["--database", "postgres://kitt:s3cret-pw@127.0.0.1:1/kitt"],
            extraEnvironment: ["KITT_LIBPQ": "/nonexistent/libpq.so.5"])
        #expect(result.status == 1, "\(result)")
        #expect(result.stderr.contains("PostgreSQL support needs libpq"), "\(result.stderr)")
        #expect(!(result.stdout + result.stderr).contains("s3cret-pw"))
    }

    @Test(.enabled(if: PostgresServer.isAvailable)) func anUnreachableServerFailsTheStart_withTheURLMasked() throws {
        // Port 1 on loopback refuses at once: the start fails fast and says where it tried.
        let result = try run(["--database", "postgres://kitt:s3cret-pw@127.0.0.1:1/kitt"])
        #expect(result.status == 1, "\(result)")
        #expect(result.stderr.contains("127.0.0.1"), "\(result.stderr)")
        #expect(!(result.stdout + result.stderr).contains("s3cret-pw"))
    }
}
