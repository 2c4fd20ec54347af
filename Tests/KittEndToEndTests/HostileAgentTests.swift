import Foundation
import KittAPI
import KittHTTP
import KittJSON
import KittTestSupport
import Testing

/// Issue 9 items 2 and 4 over the real server (TLS): an agent token acts only on its own
/// work, and install.sh provisions only what it may (SPEC §7.2).
@Suite(.serialized) struct HostileAgentTests {
    /// A fresh agent token from install.sh (`name` nil: a nameless script).
    static func installToken(_ server: TestServer, name: String?, token: String? = nil) throws -> String {
        let query = name.map { "?name=\(PercentEncoding.encode($0))" } ?? ""
        let reply = try server.request("GET", "/api/v1/agent/install.sh" + query, token: token)
        try #require(reply.status == 200, "install.sh\(query): \(reply)")
        return try #require(assignment("KITT_TOKEN", in: reply.text))
    }

    static func assignment(_ name: String, in script: String) -> String? {
        guard let line = script.split(separator: "\n").first(where: { $0.hasPrefix(name + "=") }) else { return nil }
        return String(line.dropFirst(name.count + 1).dropFirst().dropLast())
    }

    /// Registers `name` with `token`; returns the response.
    static func register(_ server: TestServer, _ name: String, token: String) throws -> TestResponse {
        try server.request("POST", "/api/v1/agents/register", json: ["name": .string(name), "hostname": "h"], token: token)
    }

    /// An agent provisioned by install.sh and registered with its token: (id, token).
    static func agent(_ server: TestServer, _ name: String) throws -> (id: String, token: String) {
        let token = try installToken(server, name: name)
        let reply = try register(server, name, token: token)
        try #require(reply.status == 201, "\(reply)")
        return (try #require(reply.json?["agent_id"]?.stringValue), token)
    }

    static func quickTest(_ server: TestServer, agent: String) throws -> (id: String, commandID: String) {
        let reply = try server.request(
            "POST", "/api/v1/quicktest/",
            json: ["agent_id": .string(agent), "model_path": "/models/m.gguf", "engine_name": "llama_cpp"])
        try #require(reply.status == 202, "\(reply)")
        return (try #require(reply.json?["id"]?.stringValue), try #require(reply.json?["command_id"]?.stringValue))
    }

    // MARK: Agent scoping

    @Test func agentTokenCannotReportOnAnotherAgentsWork() throws {
        let server = try E2E.server()
        defer { server.stop() }
        let a = try Self.agent(server, "rig-a")
        let b = try Self.agent(server, "rig-b")
        let test = try Self.quickTest(server, agent: b.id)
        let stream = try server.connect()
        try stream.send(E2E.get("/api/v1/events/stream"))
        _ = try stream.readUntil(": connected\n\n", timeout: 5)

        let document: JSON = [
            "model": "forged", "engine": "vllm", "suite_name": "quick", "timestamp": "2026-01-01T00:00:00Z",
            "passed": true, "total_benchmarks": 0, "passed_count": 0, "failed_count": 0, "total_time_seconds": 1,
            "kitt_version": "x", "results": [],
        ]
        let forgeries: [(String, String, JSON)] = [
            ("result for B's test", "/api/v1/agents/\(a.id)/results",
             ["test_id": .string(test.id), "status": "completed", "result_data": document]),
            ("status for B's command", "/api/v1/agents/\(a.id)/results",
             ["command_id": .string(test.commandID), "status": "failed", "error": "forged"]),
            ("unknown command", "/api/v1/agents/\(a.id)/results", ["command_id": "0123456789abcdef", "status": "failed"]),
            ("log on B's test", "/api/v1/quicktest/\(test.id)/logs", ["line": "forged line"]),
            ("status of B's test", "/api/v1/quicktest/\(test.id)/status", ["status": "failed", "error": "forged"]),
        ]
        for (what, path, body) in forgeries {
            let reply = try server.request("POST", path, json: body, token: a.token)
            #expect(reply.status == 404, "\(what): \(reply)")
        }
        // Acting as B on B's path with A's token is a 403 (SPEC §3).
        #expect(
            try server.request("POST", "/api/v1/agents/\(b.id)/results", json: ["command_id": .string(test.commandID), "status": "failed"], token: a.token)
                .status == 403)

        // Nothing changed: B's test is queued, unlinked, without logs, and no result was stored.
        let after = try server.request("GET", "/api/v1/quicktest/\(test.id)", token: nil).json
        #expect(after?["status"]?.stringValue == "queued")
        #expect(after?["result_id"]?.isNull != false)
        #expect(try server.request("GET", "/api/v1/results/?model=forged", token: nil).json?["total"]?.intValue == 0)
        #expect(try server.request("GET", "/api/v1/quicktest/\(test.id)/logs", token: nil).json?["lines"]?.arrayValue?.isEmpty == true)

        // Nothing was published: a marker published after the forgeries arrives with nothing forged before it.
        #expect(try server.request("POST", "/api/v1/quicktest/\(test.id)/logs", json: ["line": "marker-after-forgeries"]).status == 200)
        let seen = try stream.readUntil("marker-after-forgeries", timeout: 5)
        #expect(!seen.contains("forged"), "\(seen)")
        #expect(!seen.contains(#""status":"failed""#), "\(seen)")

        // B's queue was not drained: its next heartbeat still gets the command.
        let beat = try server.request("POST", "/api/v1/agents/\(b.id)/heartbeat", json: ["status": "idle"], token: b.token)
        #expect(beat.json?["commands"]?.arrayValue?.first?["command_id"]?.stringValue == test.commandID, "\(beat)")

        // B's own token does what A's could not.
        #expect(try server.request("POST", "/api/v1/quicktest/\(test.id)/status", json: ["status": "running"], token: b.token).status == 200)
        let done = try server.request(
            "POST", "/api/v1/agents/\(b.id)/results",
            json: ["command_id": .string(test.commandID), "status": "completed", "result_data": document], token: b.token)
        #expect(done.status == 202, "\(done)")
        #expect(try server.request("GET", "/api/v1/quicktest/\(test.id)", token: nil).json?["status"]?.stringValue == "completed")
    }

    @Test func campaignAdvancesOnlyOnItsOwnAgentsReports() throws {
        let server = try E2E.server()
        defer { server.stop() }
        let a = try Self.agent(server, "camp-a")
        let b = try Self.agent(server, "camp-b")
        let created = try server.request(
            "POST", "/api/v1/campaigns/",
            json: ["name": "c", "agent_id": .string(b.id),
                   "config": ["models": [["name": "m1"], ["name": "m2"]], "engines": [["name": "vllm"]]]])
        let campaign = try #require(created.json?["id"]?.stringValue, "\(created)")
        #expect(try server.request("POST", "/api/v1/campaigns/\(campaign)/launch").status == 202)
        // B's heartbeat hands out the campaign's first test.
        var command: JSON?
        #expect(E2E.eventually {
            command = try? server.request("POST", "/api/v1/agents/\(b.id)/heartbeat", json: [:], token: b.token)
                .json?["commands"]?.arrayValue?.first
            return command != nil
        })
        let testID = try #require(command?["test_id"]?.stringValue)
        let commandID = try #require(command?["command_id"]?.stringValue)
        // A cannot finish it: the campaign stays on its first run.
        let forged = try server.request(
            "POST", "/api/v1/agents/\(a.id)/results", json: ["command_id": .string(commandID), "status": "completed"],
            token: a.token)
        #expect(forged.status == 404)
        #expect(try server.request("POST", "/api/v1/quicktest/\(testID)/status", json: ["status": "completed"], token: a.token).status == 404)
        // B finishing it advances the campaign to a second test (the positive signal).
        #expect(try server.request("POST", "/api/v1/quicktest/\(testID)/status", json: ["status": "completed"], token: b.token).status == 200)
        #expect(E2E.eventually {
            (try? server.request("GET", "/api/v1/quicktest/?per_page=100", token: nil).json?["total"]?.intValue) == 2
        })
        let campaignNow = try server.request("GET", "/api/v1/campaigns/\(campaign)", token: nil).json
        #expect(campaignNow?["succeeded"]?.intValue == 1, "\(String(describing: campaignNow))")
    }

    // MARK: Provisioning and install.sh

    @Test func installShProvisionsOnlyNewNames_rotationNeedsTheAdmin() throws {
        let server = try E2E.server()
        defer { server.stop() }
        // A provisioned (never registered) name cannot be taken over by a second fetch.
        let first = try Self.installToken(server, name: "gpu-new")
        let again = try server.request("GET", "/api/v1/agent/install.sh?name=gpu-new", token: nil)
        #expect(again.status == 401, "\(again)")
        #expect(again.errorMessage?.contains("admin token") == true, "\(again)")
        let wrong = try server.request("GET", "/api/v1/agent/install.sh?name=gpu-new", token: first)
        #expect(wrong.status == 403, "\(wrong)")
        #expect(wrong.errorMessage?.contains("admin token") == true)
        // The admin rotates: the old token stops working, the new one registers.
        let rotated = try Self.installToken(server, name: "gpu-new", token: TestServer.defaultToken)
        #expect(try Self.register(server, "gpu-new", token: first).status == 403)
        #expect(try Self.register(server, "gpu-new", token: rotated).status == 201)
        // A registered agent too.
        #expect(try server.request("GET", "/api/v1/agent/install.sh?name=gpu-new", token: nil).status == 401)
        // HEAD on an existing name is no way around it either.
        #expect(try server.request("HEAD", "/api/v1/agent/install.sh?name=gpu-new", token: nil).status == 401)
    }

    @Test func installShValidatesEveryInterpolatedValue() throws {
        let server = try E2E.server()
        defer { server.stop() }
        let bad = [
            "engine_url=http://e%0Aserver=https://evil.example", "engine_url=http://e%0D%0Astorage_dir=/",
            "engine_url=http://a%20b", "engine_url=ftp://e", "engine_url=javascript:alert(1)", "engine_url=http://",
            "engine_url=http://e%09x", "port=0", "port=65536", "port=1e3", "name=0123456789abcdef",
            "name=" + String(repeating: "n", count: 129), "name=a%0Ab",
        ]
        for query in bad {
            let reply = try server.request("GET", "/api/v1/agent/install.sh?\(query)", token: nil)
            #expect(reply.status == 400, "\(query): \(reply)")
            #expect(reply.errorMessage?.isEmpty == false)
        }
        let ok = try server.request(
            "GET", "/api/v1/agent/install.sh?name=rig-1&engine_url=https://engine.lab:8000/v1&port=9001", token: nil)
        #expect(ok.status == 200)
        #expect(ok.text.contains("\nENGINE_URL='https://engine.lab:8000/v1'\n"))
        #expect(ok.text.contains("\nAGENT_PORT=9001\n"))
    }

    @Test func namelessInstallCreatesNoRow_tokenBindsAtRegister() throws {
        let server = try E2E.server()
        defer { server.stop() }
        let registered = try Self.agent(server, "taken-name")
        let before = try server.request("GET", "/api/v1/agents/", token: nil).json?["total"]?.intValue
        let token = try Self.installToken(server, name: nil)
        let other = try Self.installToken(server, name: nil)
        #expect(try server.request("GET", "/api/v1/agents/", token: nil).json?["total"]?.intValue == before)
        // Not an agent yet: it cannot heartbeat or report for anyone.
        #expect(try server.request("POST", "/api/v1/agents/\(registered.id)/heartbeat", json: [:], token: token).status == 403)
        // It may not take an existing agent's name.
        #expect(try Self.register(server, "taken-name", token: other).status == 403)
        // It registers under its host name and becomes that agent's token, once.
        let reply = try Self.register(server, "host-7", token: token)
        #expect(reply.status == 201, "\(reply)")
        let id = try #require(reply.json?["agent_id"]?.stringValue)
        #expect(try server.request("POST", "/api/v1/agents/host-7/heartbeat", json: ["status": "idle"], token: token).status == 200)
        #expect(try Self.register(server, "host-8", token: token).status == 403)
        #expect(try server.request("GET", "/api/v1/agents/host-8", token: nil).status == 404)
        #expect(try server.request("GET", "/api/v1/agents/\(id)", token: nil).json?["name"]?.stringValue == "host-7")
    }

    @Test func namesAndStatusesAnAgentMayNotUse() throws {
        let server = try E2E.server()
        defer { server.stop() }
        let token = try Self.installToken(server, name: "rig-x")
        // A name shaped like an id would shadow one.
        #expect(try Self.register(server, "0123456789abcdef", token: token).status == 400)
        #expect(try Self.register(server, String(repeating: "r", count: 129), token: token).status == 400)
        let long = try server.request(
            "POST", "/api/v1/agents/register",
            json: ["name": "rig-x", "hostname": .string(String(repeating: "h", count: 129))], token: token)
        #expect(long.status == 400)
        #expect(long.errorMessage?.contains("hostname") == true)
        #expect(try Self.register(server, "rig-x", token: token).status == 201)
        for status in ["provisioned", "offline", "Busy", "idle!", "", String(repeating: "a", count: 33)] {
            let reply = try server.request("POST", "/api/v1/agents/rig-x/heartbeat", json: ["status": .string(status)], token: token)
            #expect(reply.status == 400, "'\(status)': \(reply)")
        }
        #expect(try server.request("GET", "/api/v1/agents/rig-x", token: nil).json?["status"]?.stringValue == "online")
        let fine = try server.request(
            "POST", "/api/v1/agents/rig-x/heartbeat", json: ["status": .string(String(repeating: "b", count: 32))], token: token)
        #expect(fine.status == 200)
    }

    @Test func neverRegisteredAgentsAndInstallTokensExpire() throws {
        let server = try E2E.server {
            $0.provisionExpiry = 1
            $0.agentOfflineAfter = 0.6
        }
        defer { server.stop() }
        let kept = try Self.agent(server, "registered-one")
        _ = try Self.installToken(server, name: "ghost")
        let nameless = try Self.installToken(server, name: nil)
        #expect(try server.request("GET", "/api/v1/agents/ghost", token: nil).status == 200)
        #expect(E2E.eventually(timeout: 10) {
            (try? server.request("GET", "/api/v1/agents/ghost", token: nil).status) == 404
        })
        #expect(try Self.register(server, "late-host", token: nameless).status == 403)
        #expect(try server.request("GET", "/api/v1/agents/\(kept.id)", token: nil).status == 200)
    }

    // MARK: The agent side

    @Test func agentRefusesASmuggledConfigAndAnUnsafeStorageDir() throws {
        let cli = CommandLineTests()
        let home = TempDirectory("kitt-agent-conf")
        let conf = home.path + "/agent.conf"
        let base = "server=https://kitt.lab:8080\ntoken=t\nname=rig\n"
        let cases: [([String], String?, String)] = [
            (["--config", conf], base + "server=https://evil.example\n", "'server' is given twice"),
            (["--config", conf], base + "engine_url=http://e\u{1B}]0;x\n", "control character"),
            (["--config", conf, "--storage-dir", "/"], base, "storage_dir"),
            (["--config", conf, "--storage-dir", "/etc/kitt"], base, "storage_dir"),
            (["--config", conf], base + "storage_dir=/opt/../usr\n", "storage_dir"),
        ]
        for (arguments, file, message) in cases {
            if let file { try file.write(toFile: conf, atomically: false, encoding: .utf8) }
            let result = try cli.run(["agent"] + arguments)
            #expect(result.status != 0, "\(arguments)")
            #expect(result.stderr.contains(message), "\(arguments): \(result.stderr)")
        }
    }
}
