import Foundation
import KittJSON
import KittTestSupport
import Testing

/// SPEC §7.1 through the real server over TLS: what a lab moving from KITT uses — the
/// campaign wizard's config, agents by name, `dispatched`, token rotation, the engines API,
/// the quick test engine lists, Devon status — and the engine commands reaching a real
/// `kitt agent`.
@Suite(.serialized) struct DropInEndToEndTests {

    @Test func kittRoutesAndShapesOverTLS() throws {
        let server = try E2E.server()
        defer { server.stop() }
        let registered = try server.request(
            "POST", "/api/v1/agents/register", json: ["name": "gpu-a100-1", "hostname": "a100.lab"])
        #expect(registered.status == 201)
        let agentID = try #require(registered.json?["agent_id"]?.stringValue)

        // Token rotation: shown once; the previous token stops working at once.
        let first = try server.request("POST", "/api/v1/agents/gpu-a100-1/rotate-token")
        #expect(first.status == 200, "\(first)")
        let oldToken = try #require(first.json?["token"]?.stringValue)
        #expect(first.json?["token_prefix"]?.stringValue == String(oldToken.prefix(8)))
        #expect(try server.request("POST", "/api/v1/agents/gpu-a100-1/heartbeat", json: [:], token: oldToken).status == 200)
        let second = try server.request("POST", "/api/v1/agents/\(agentID)/rotate-token")
        let token = try #require(second.json?["token"]?.stringValue)
        #expect(try server.request("POST", "/api/v1/agents/gpu-a100-1/heartbeat", json: [:], token: oldToken).status == 403)
        #expect(try server.request("POST", "/api/v1/agents/gpu-a100-1/rotate-token", token: token).status == 403)

        // A quick test for the agent by name; the heartbeat that hands it out makes it dispatched.
        let queued = try server.request(
            "POST", "/api/v1/quicktest/", json: ["agent_id": "gpu-a100-1", "model_path": "/m", "engine_name": "vllm"])
        #expect(queued.status == 202, "\(queued)")
        let testID = try #require(queued.json?["id"]?.stringValue)
        let beat = try server.request("POST", "/api/v1/agents/gpu-a100-1/heartbeat", json: [:], token: token)
        #expect(beat.json?["commands"]?.arrayValue?.first?["test_id"]?.stringValue == testID)
        #expect(try server.request("GET", "/api/v1/quicktest/\(testID)").json?["status"]?.stringValue == "dispatched")

        // The campaign wizard's config comes back exactly as sent.
        let config: JSON = [
            "models": [["name": "Qwen/Qwen2.5-7B", "path": "/data/models/Qwen2.5-7B"]],
            "engines": [["name": "vllm", "suite": "standard"]], "devon_managed": true, "disk": ["min_free_gb": 50],
        ]
        let campaign = try server.request(
            "POST", "/api/v1/campaigns/", json: ["name": "nightly", "agent_id": "gpu-a100-1", "config": config])
        #expect(campaign.status == 201, "\(campaign)")
        let campaignID = try #require(campaign.json?["id"]?.stringValue)
        let stored = try server.request("GET", "/api/v1/campaigns/\(campaignID)").json
        #expect(stored?["config"]?.jsonString == config.jsonString)
        #expect(stored?["agent_id"]?.stringValue == agentID)

        // Engine lists, profiles, registry, status (no token needed to read).
        let formats = try server.request("GET", "/api/v1/quicktest/engine-formats", token: nil)
        #expect(formats.status == 200 && formats.json?["vllm"]?["default_mode"]?.stringValue == "docker", "\(formats)")
        #expect(try server.request("GET", "/api/v1/quicktest/engine-profiles", token: nil).json == ["profiles": []])
        let profile = try server.request(
            "POST", "/api/v1/engines/profiles", json: ["name": "vllm-fp8", "engine": "vllm", "runtime_config": ["kv_cache_dtype": "fp8"]])
        #expect(profile.status == 201, "\(profile)")
        let profileID = try #require(profile.json?["id"]?.stringValue)
        #expect(try server.request("POST", "/api/v1/engines/profiles", json: ["name": "vllm-fp8", "engine": "vllm"]).status == 409)
        #expect(try server.request("GET", "/api/v1/engines/profiles/\(profileID)", token: nil).json == profile.json)
        #expect(try server.request("PUT", "/api/v1/engines/profiles/\(profileID)", json: ["mode": "native"]).json?["mode"] == "native")
        #expect(try server.request("GET", "/api/v1/quicktest/engine-profiles").json?["profiles"]?.arrayValue?.count == 1)
        #expect(try server.request("DELETE", "/api/v1/engines/profiles/\(profileID)").json == ["deleted": true])
        let registry = try server.request("GET", "/api/v1/engines/registry", token: nil)
        #expect(registry.json?["engines"]?.arrayValue?.first?["container_port"]?.intValue == 8000, "\(registry)")
        #expect(try server.request("GET", "/api/v1/engines/status", token: nil).json?["matrix"] != nil)

        // Engine commands go out with the next heartbeat, like run_test.
        let install = try server.request(
            "POST", "/api/v1/engines/agents/gpu-a100-1/install", json: ["engine_name": "llama_cpp"])
        #expect(install.status == 202 && install.json?["status"]?.stringValue == "queued", "\(install)")
        let delivered = try server.request("POST", "/api/v1/agents/\(agentID)/heartbeat", json: [:], token: token)
        let command = delivered.json?["commands"]?.arrayValue?.first
        #expect(command?["command_id"] == install.json?["command_id"])
        #expect(command?["type"]?.stringValue == "install_engine")
        #expect(command?["payload"]?["engine_mode"]?.stringValue == "native")

        let devon = try server.request("GET", "/api/v1/devon/status", token: nil)
        #expect(devon.json == ["available": false, "url": "", "reason": "not_configured"], "\(devon)")
    }

    @Test func engineCommandsRunOnTheRealAgent() throws {
        let server = try E2E.server()
        defer { server.stop() }
        let caFile = try #require(server.caFile)
        let home = TempDirectory("kitt-agent-engines")
        let marker = home.path + "/installed-engine"
        try FileManager.default.createDirectory(atPath: home.path + "/.kitt", withIntermediateDirectories: true)
        let conf = """
            server=https://localhost:\(server.port)
            token=\(TestServer.defaultToken)
            name=engine-box
            ca_file=\(caFile)
            heartbeat_interval=0.2
            engine.vllm.install = echo "$1 $3" > '\(marker)'
            """
        try conf.write(toFile: home.path + "/.kitt/agent.conf", atomically: false, encoding: .utf8)
        let agent = try AgentProcess(arguments: [], home: home.path)
        defer { _ = agent.terminate() }
        try waitFor("the agent to register", timeout: 20) {
            try server.request("GET", "/api/v1/agents/engine-box").status == 200
        }

        let install = try server.request(
            "POST", "/api/v1/engines/agents/engine-box/install",
            json: ["engine_name": "vllm", "runtime_config": ["gpu_memory_utilization": 0.9]])
        #expect(install.status == 202, "\(install)")
        try waitFor("the install command to run", timeout: 20) { FileManager.default.fileExists(atPath: marker) }
        try waitFor("the install report", timeout: 10) { agent.log.contains("engine.vllm.install succeeded") }
        #expect(try String(contentsOfFile: marker, encoding: .utf8) == "vllm {\"gpu_memory_utilization\":0.9}\n")

        let start = try server.request("POST", "/api/v1/engines/agents/engine-box/start", json: ["engine_name": "vllm"])
        #expect(start.status == 202)
        try waitFor("the start command to fail clearly", timeout: 20) {
            agent.log.contains("add 'engine.vllm.start = <command>' to agent.conf")
        }
        #expect(agent.terminate() == 0, "\(agent.log.suffix(2000))")
    }
}
