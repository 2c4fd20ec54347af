#if canImport(Glibc)
import Glibc
#endif
import KittAPI
import KittJSON
import KittStore
import KittTestSupport
import Testing

/// KITT's routes kitt lacked (SPEC §7.1): engine profiles, status, registry and agent engine
/// commands; token rotation; the quick test engine lists; Devon status.
@Suite struct EngineAPITests {
    @Test func profilesCRUD() throws {
        let h = try APIHarness.control()
        defer { h.close() }
        let base = "/api/v1/engines/profiles"
        #expect(try h.execute(.post, base, json: ["name": "p", "engine": "vllm"], admin: false).status == 401)
        #expect(try h.execute(.post, base, json: ["name": "p", "engine": "vllm"], token: "bad").status == 403)
        #expect(try h.execute(.post, base, json: ["engine": "vllm"]).status == 400)
        #expect(try h.execute(.post, base, json: ["name": "p"]).status == 400)
        #expect(try h.execute(.post, base, json: ["name": "p", "engine": "vllm", "mode": "podman"]).status == 400)
        #expect(try h.execute(.post, base, json: ["name": "p", "engine": "vllm", "runtime_config": "fp8"]).status == 400)

        let created = try h.execute(
            .post, base + "/",
            json: [
                "name": "vllm-fp8", "engine": "vllm", "description": "fp8 kv cache",
                "runtime_config": ["kv_cache_dtype": "fp8", "max_model_len": 8192],
            ])
        #expect(created.status == 201, "\(created.json)")
        let profile = try #require(created.json)
        let id = try #require(profile["id"]?.stringValue)
        #expect(StoreID.isValid(id))
        #expect(profile.objectValue?.keys == [
            "id", "name", "engine", "mode", "description", "build_config", "runtime_config", "created_at", "updated_at",
        ])
        #expect(profile["mode"]?.stringValue == "docker")
        #expect(profile["build_config"] == .object(JSONObject()))
        #expect(profile["runtime_config"]?["max_model_len"]?.intValue == 8192)
        let taken = try h.execute(.post, base, json: ["name": "vllm-fp8", "engine": "llama_cpp"])
        #expect(taken.status == 409 && taken.error?.contains("vllm-fp8") == true)
        let gguf = try #require(try h.execute(.post, base, json: ["name": "gguf-q4", "engine": "llama_cpp", "mode": "native"]).json?["id"]?.stringValue)

        #expect(try h.execute(.get, base, admin: false).json?["profiles"]?.arrayValue?.compactMap { $0["name"]?.stringValue } == ["gguf-q4", "vllm-fp8"])
        #expect(try h.execute(.get, base + "?engine=vllm").json?["profiles"]?.arrayValue?.count == 1)
        #expect(try h.execute(.get, "/api/v1/quicktest/engine-profiles?engine=llama_cpp").json?["profiles"]?.arrayValue?.first?["id"]?.stringValue == gguf)
        #expect(try h.execute(.get, "/api/v1/quicktest/engine-profiles").json?["profiles"]?.arrayValue?.count == 2)
        #expect(try h.execute(.get, base + "/\(id)", admin: false).json == profile)
        #expect(try h.execute(.get, base + "/ffffffffffffffff").status == 404)

        #expect(try h.execute(.put, base + "/\(id)", json: ["description": "x"], admin: false).status == 401)
        #expect(try h.execute(.put, base + "/\(id)", json: [:]).status == 400)
        #expect(try h.execute(.put, base + "/\(id)", json: ["name": "gguf-q4"]).status == 409)
        #expect(try h.execute(.put, base + "/ffffffffffffffff", json: ["description": "x"]).status == 404)
        let updated = try h.execute(.put, base + "/\(id)", json: ["mode": "native", "build_config": ["cuda": "12.4"]])
        #expect(updated.status == 200)
        #expect(updated.json?["mode"]?.stringValue == "native")
        #expect(updated.json?["build_config"]?["cuda"]?.stringValue == "12.4")
        #expect(updated.json?["runtime_config"] == profile["runtime_config"])
        #expect(updated.json?["name"]?.stringValue == "vllm-fp8")
        #expect(try h.execute(.put, base + "/\(id)", json: ["name": "vllm-fp8"]).status == 200)  // its own name

        #expect(try h.execute(.delete, base + "/\(id)", admin: false).status == 401)
        #expect(try h.execute(.delete, base + "/\(id)").json?["deleted"]?.boolValue == true)
        #expect(try h.execute(.delete, base + "/\(id)").status == 404)
        #expect(try h.execute(.get, base + "/\(id)").status == 404)
    }

    @Test func registryEngineFormatsAndStatusMatrix() throws {
        let h = try APIHarness.control()
        defer { h.close() }
        let registry = try h.execute(.get, "/api/v1/engines/registry", admin: false)
        #expect(registry.status == 200)
        let engines = try #require(registry.json?["engines"]?.arrayValue)
        #expect(engines.compactMap { $0["name"]?.stringValue } == ["vllm", "llama_cpp", "ollama", "exllamav2", "mlx"])
        #expect(engines[0] == ["name": "vllm", "supported_modes": ["docker", "native"], "default_mode": "docker",
                               "default_image": "vllm/vllm-openai:latest", "container_port": 8000])
        #expect(engines[4]["supported_modes"] == ["native"] && engines[4]["default_image"] == .null)

        let formats = try h.execute(.get, "/api/v1/quicktest/engine-formats", admin: false)
        #expect(formats.status == 200, "\(formats.json)")
        #expect(formats.json?["llama_cpp"] == ["formats": ["gguf"], "modes": ["docker", "native"], "default_mode": "docker"])
        #expect(formats.json?["mlx"]?["default_mode"]?.stringValue == "native")

        let agent = try h.addAgent(name: "gpu-1", token: "agent-token-1")
        #expect(try h.execute(.get, "/api/v1/engines/status").json == ["matrix": [:]])
        let beat = try h.execute(
            .post, "/api/v1/agents/gpu-1/heartbeat",
            json: ["engines": [
                ["engine": "vllm", "installed": true, "running": true, "version": "0.6.3", "binary_path": "/usr/bin/vllm"],
                ["engine": "ollama", "installed": false],
            ]], token: "agent-token-1")
        #expect(beat.status == 200)
        let matrix = try h.execute(.get, "/api/v1/engines/status", admin: false).json?["matrix"]
        let rows = try #require(matrix?[agent]?.arrayValue)
        #expect(rows.compactMap { $0["engine"]?.stringValue } == ["ollama", "vllm"])
        #expect(rows[1]["status"]?.stringValue == "running" && rows[1]["mode"]?.stringValue == "native")
        #expect(rows[1]["version"]?.stringValue == "0.6.3" && rows[1]["binary_path"]?.stringValue == "/usr/bin/vllm")
        #expect(rows[0]["status"]?.stringValue == "not_installed")
        #expect(rows[0]["last_checked"]?.stringValue?.isEmpty == false)
    }

    @Test func agentEngineCommandsAreDeliveredByHeartbeats() throws {
        let h = try APIHarness.control()
        defer { h.close() }
        let agent = try h.addAgent(name: "gpu-1", token: "agent-token-1")
        let base = "/api/v1/engines/agents"
        #expect(try h.execute(.post, "\(base)/gpu-1/install", json: ["engine_name": "vllm"], admin: false).status == 401)
        #expect(try h.execute(.post, "\(base)/gpu-1/install", json: ["engine_name": "vllm"], token: "agent-token-1").status == 403)
        #expect(try h.execute(.post, "\(base)/gpu-1/install", json: [:]).status == 400)
        #expect(try h.execute(.post, "\(base)/gpu-1/start", json: ["engine_name": "vllm", "runtime_config": "x"]).status == 400)
        #expect(try h.execute(.post, "\(base)/nobody/install", json: ["engine_name": "vllm"]).status == 404)
        #expect(try h.execute(.post, "\(base)/gpu-1/reboot", json: ["engine_name": "vllm"]).status == 404)

        var queued: [String] = []
        let requests: [(String, JSON)] = [
            ("install", ["engine_name": "vllm"]),
            ("start", ["engine_name": "vllm", "model_path": "/data/m", "runtime_config": ["port": 8001]]),
            ("stop", ["engine_name": "vllm"]),
        ]
        for (action, body) in requests {
            let reply = try h.execute(.post, "\(base)/\(action == "install" ? "gpu-1" : agent)/\(action)", json: body)
            #expect(reply.status == 202)
            #expect(reply.json?["status"]?.stringValue == "queued")
            queued.append(try #require(reply.json?["command_id"]?.stringValue))
        }

        var delivered: [JSON] = []
        for _ in 0..<4 {
            let beat = try h.execute(.post, "/api/v1/agents/\(agent)/heartbeat", json: [:], token: "agent-token-1")
            delivered += beat.json?["commands"]?.arrayValue ?? []
        }
        #expect(delivered.compactMap { $0["command_id"]?.stringValue } == queued)
        #expect(delivered.compactMap { $0["type"]?.stringValue } == ["install_engine", "start_engine", "stop_engine"])
        #expect(delivered[0]["test_id"] == .null)
        #expect(delivered[1]["payload"] == [
            "model_path": "/data/m", "engine_name": "vllm", "benchmark_name": "", "suite_name": "",
            "engine_mode": "native", "profile_id": nil, "runtime_config": ["port": 8001],
        ])
        #expect(delivered[0]["payload"]?["runtime_config"] == .object(JSONObject()))

        // The outcome is reported like a test's: the command is finished (failed here, done for
        // a success) and one `status` event on the agent's stream says so, with the error.
        let failedReport: JSON = ["command_id": .string(queued[0]), "status": "failed", "error": "no install command"]
        let report = try h.execute(.post, "/api/v1/agents/\(agent)/results", json: failedReport, token: "agent-token-1")
        #expect(report.status == 202)
        let succeeded = try h.execute(
            .post, "/api/v1/agents/\(agent)/results", json: ["command_id": .string(queued[2]), "status": "success"],
            token: "agent-token-1")
        #expect(succeeded.status == 202)
        // Reported again: nothing changes and nothing more is published.
        #expect(try h.execute(.post, "/api/v1/agents/\(agent)/results", json: failedReport, token: "agent-token-1").status == 202)
        let commands = try h.store.quickTests.commands(agentID: agent)
        #expect(commands.first { $0.id == queued[0] }?.status == "failed")
        #expect(commands.first { $0.id == queued[1] }?.status == "dispatched")
        #expect(commands.first { $0.id == queued[2] }?.status == "done")
        let outcomes = h.context.events.history.filter { $0.type == "status" && $0.data["command_id"] != nil }
        #expect(outcomes.map(\.data) == [
            ["status": "failed", "command_id": .string(queued[0]), "type": "install_engine", "agent_id": .string(agent),
             "error": "no install command"],
            ["status": "completed", "command_id": .string(queued[2]), "type": "stop_engine", "agent_id": .string(agent)],
        ])
        #expect(outcomes.allSatisfy { $0.sources.contains(agent) })
    }

    @Test func rotateTokenReplacesTheAgentTokenAtOnce() throws {
        let h = try APIHarness.control()
        defer { h.close() }
        let agent = try h.addAgent(name: "gpu-1", token: "old-token")
        #expect(try h.execute(.post, "/api/v1/agents/gpu-1/heartbeat", json: [:], token: "old-token").status == 200)
        #expect(try h.execute(.post, "/api/v1/agents/gpu-1/rotate-token", admin: false).status == 401)
        #expect(try h.execute(.post, "/api/v1/agents/gpu-1/rotate-token", token: "old-token").status == 403)
        #expect(try h.execute(.post, "/api/v1/agents/nobody/rotate-token").status == 404)

        let rotated = try h.execute(.post, "/api/v1/agents/gpu-1/rotate-token")
        #expect(rotated.status == 200)
        let token = try #require(rotated.json?["token"]?.stringValue)
        #expect(token.utf8.count == 64 && token != "old-token")
        #expect(rotated.json?["token_prefix"]?.stringValue == String(token.prefix(8)))
        #expect(rotated.json?.objectValue?.keys == ["token", "token_prefix"])
        #expect(try h.execute(.post, "/api/v1/agents/\(agent)/heartbeat", json: [:], token: "old-token").status == 403)
        #expect(try h.execute(.post, "/api/v1/agents/\(agent)/heartbeat", json: [:], token: token).status == 200)
        // By id too; the token is never shown again.
        let again = try #require(try h.execute(.post, "/api/v1/agents/\(agent)/rotate-token").json?["token"]?.stringValue)
        #expect(again != token)
        #expect(try h.execute(.post, "/api/v1/agents/gpu-1/heartbeat", json: [:], token: token).status == 403)
        #expect(try h.execute(.get, "/api/v1/agents/\(agent)").body.isEmpty == false)
        #expect(!String(decoding: try h.execute(.get, "/api/v1/agents/\(agent)").body, as: UTF8.self).contains(again))
    }
}

/// `GET /devon/status` against a fake Devon.
@Suite(.serialized) struct DevonStatusTests {
    static func harness(devonURL: String?) throws -> APIHarness {
        try APIHarness { $0.devonURL = devonURL }
    }

    @Test func notConfiguredUnreachableAndCachedFor10Seconds() throws {
        let none = try DevonStatusTests.harness(devonURL: nil)
        let unconfigured = none.call(.get, "/api/v1/devon/status")
        #expect(unconfigured.status == 200)
        #expect(unconfigured.json == ["available": false, "url": "", "reason": "not_configured"])

        // A port nothing listens on (a listener opened and closed).
        let closed = try FakeHTTPServer { _ in .json(200, "{}") }
        let deadURL = closed.url
        closed.stop()
        usleep(50_000)
        let dead = try DevonStatusTests.harness(devonURL: deadURL)
        #expect(dead.call(.get, "/api/v1/devon/status").json == ["available": false, "url": .string(deadURL), "reason": "unreachable"])

        let devon = try FakeHTTPServer { _ in .json(200, #"{"models": []}"#) }
        defer { devon.stop() }
        let live = try DevonStatusTests.harness(devonURL: devon.url + "/")
        for _ in 0..<3 {
            #expect(live.call(.get, "/api/v1/devon/status").json == ["available": true, "url": .string(devon.url)])
        }
        #expect(devon.requests.count == 1)
        #expect(devon.requests.first?.target == "/api/v1/models")
    }
}
