import Foundation
import KittAgent
import KittJSON
import KittTestSupport
import Testing

/// install_engine / start_engine / stop_engine in the agent: the configured command runs (with
/// the engine, model path and runtime_config as $1 $2 $3), its outcome is reported on the
/// command; no configured command is a clear failure, never a silent no-op.
@Suite(.serialized) struct EngineCommandTests {
    let facts = MachineFacts(
        hostname: "h", cpuModel: "c", cpuArch: "x86_64", cores: 2, ramGB: 8, gpus: [], environmentType: "native_linux")

    func engineCommand(_ id: String, _ type: String, engine: String = "vllm") -> JSON {
        [
            "command_id": .string(id), "test_id": nil, "type": .string(type),
            "payload": [
                "model_path": "/data/m", "engine_name": .string(engine), "benchmark_name": "", "suite_name": "",
                "engine_mode": "native", "profile_id": nil, "runtime_config": ["port": 8001],
            ],
        ]
    }

    func report(_ server: FakeServer, _ id: String) -> JSON? {
        server.paths(containing: "/results").first { $0.body["command_id"]?.stringValue == id }?.body
    }

    @Test func configFileLinesBecomeEngineCommands() throws {
        let text = """
            server=https://s
            token=t
            engine.vllm.install = echo hi
            engine.llama_cpp.start=llama-server -d
            engine.vllm.reboot = nope
            """
        let (config, warnings) = try AgentConfiguration.parse(
            ["--config", "agent.conf"], home: nil, hostname: "h", readFile: { _ in text })
        #expect(warnings.count == 1 && warnings[0].contains("engine.vllm.reboot"))
        #expect(config.engineCommands.command(engine: "vllm", action: "install") == "echo hi")
        #expect(config.engineCommands.command(engine: "llama_cpp", action: "start") == "llama-server -d")
        #expect(config.engineCommands.command(engine: "vllm", action: "stop") == nil)
    }

    @Test func runsTheConfiguredCommandOrFailsSayingWhatToConfigure() throws {
        let directory = TempDirectory("kitt-engine-cmd")
        let marker = directory.path + "/installed"
        let server = FakeServer(
            FakeServer.handing([
                engineCommand("c1", "install_engine"), engineCommand("c2", "start_engine"),
                engineCommand("c3", "stop_engine"), engineCommand("c4", "install_engine", engine: ""),
            ]))
        var config = AgentConfiguration(server: "https://s", token: "t", name: "rig")
        config.heartbeatInterval = 0.05
        config.engineCommands = EngineCommands([
            "vllm.install": "printf '%s|%s|%s' \"$1\" \"$2\" \"$3\" > '\(marker)'; echo pulled",
            "vllm.stop": "echo 'no such container' >&2; exit 3",
        ])
        let agent = Agent(config: config, server: server, facts: facts, version: "0.9.0", home: "/tmp", log: { _ in })
        agent.start()
        defer { agent.stop() }
        #expect(waitUntil { report(server, "c4") != nil })

        let installed = try #require(report(server, "c1"))
        #expect(installed["status"]?.stringValue == "completed", "\(installed)")
        #expect(installed["message"]?.stringValue?.contains("pulled") == true)
        #expect(try String(contentsOfFile: marker, encoding: .utf8) == #"vllm|/data/m|{"port":8001}"#)

        let unconfigured = try #require(report(server, "c2"))
        #expect(unconfigured["status"]?.stringValue == "failed")
        #expect(unconfigured["error"]?.stringValue?.contains("add 'engine.vllm.start = <command>' to agent.conf") == true)

        let failing = try #require(report(server, "c3"))
        #expect(failing["status"]?.stringValue == "failed")
        #expect(failing["error"]?.stringValue?.contains("exited with status 3") == true)
        #expect(failing["error"]?.stringValue?.contains("no such container") == true)

        #expect(report(server, "c4")?["error"]?.stringValue?.contains("engine_name") == true)
        // Engine commands have no quick test: nothing is posted to /quicktest/.
        #expect(server.paths(containing: "/quicktest/").isEmpty)
    }
}

