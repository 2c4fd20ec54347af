#if canImport(Glibc)
import Glibc
#endif
@testable import KittAPI
import KittJSON
import KittStore
import KittTestSupport
import Testing

@Suite struct QuickTestAPITests {
    @Test func sha256FixtureMatchesKnownVector() {
        #expect(sha256Hex(Array("abc".utf8)) == "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad")
        #expect(sha256Hex([]) == "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855")
    }

    @Test func createQueuesTestAndRunTestCommand() throws {
        let h = try APIHarness.control()
        defer { h.close() }
        let agent = try h.addAgent(name: "gpu-1")
        let events = h.subscribe(source: agent)
        let r = try h.execute(
            .post, "/api/v1/quicktest/",
            json: [
                "agent_id": .string(agent), "model_path": "/models/llama-3-8b", "engine_name": "vllm",
                "profile_id": "p1",
            ])
        #expect(r.status == 202)
        let id = try #require(r.json?["id"]?.stringValue)
        let commandID = try #require(r.json?["command_id"]?.stringValue)
        #expect(r.json?["status"]?.stringValue == "queued")
        #expect(StoreID.isValid(id) && StoreID.isValid(commandID))

        let test = try h.execute(.get, "/api/v1/quicktest/\(id)", admin: false)
        #expect(test.status == 200)
        #expect(test.json?["agent_name"]?.stringValue == "gpu-1")
        #expect(test.json?["benchmark_name"]?.stringValue == "throughput")
        #expect(test.json?["suite_name"]?.stringValue == "quick")
        #expect(test.json?["engine_mode"]?.stringValue == "docker")
        #expect(test.json?["command_id"]?.stringValue == commandID)
        #expect(test.json?["started_at"]?.isNull == true)

        let commands = try h.store.quickTests.commands(agentID: agent)
        #expect(commands.count == 1)
        let command = try #require(commands.first)
        #expect(command.id == commandID && command.testID == id && command.type == "run_test" && command.status == "queued")
        let payload = try JSON(parsing: Array(command.payload.utf8))
        #expect(payload["model_path"]?.stringValue == "/models/llama-3-8b")
        #expect(payload["engine_name"]?.stringValue == "vllm")
        #expect(payload["benchmark_name"]?.stringValue == "throughput")
        #expect(payload["suite_name"]?.stringValue == "quick")
        #expect(payload["engine_mode"]?.stringValue == "docker")
        #expect(payload["profile_id"]?.stringValue == "p1")

        let frames = events.frames
        #expect(frames.count == 1)
        #expect(frames.first?.type == "status")
        #expect(frames.first?.data["test_id"]?.stringValue == id)
        #expect(frames.first?.data["status"]?.stringValue == "queued")
        #expect(!String(decoding: test.body, as: UTF8.self).contains("token"))
    }

    @Test func createValidatesAuthFieldsAndAgent() throws {
        let h = try APIHarness.control()
        defer { h.close() }
        let agent = try h.addAgent(name: "gpu-1")
        let good: JSON = ["agent_id": .string(agent), "model_path": "m", "engine_name": "vllm"]
        #expect(try h.execute(.post, "/api/v1/quicktest", json: good, admin: false).status == 401)
        #expect(try h.execute(.post, "/api/v1/quicktest", json: good, token: "wrong").status == 403)
        // Auth before existence: an unknown agent without credentials is still 401.
        #expect(
            try h.execute(.post, "/api/v1/quicktest", json: ["agent_id": "ffffffffffffffff", "model_path": "m", "engine_name": "x"],
                admin: false).status == 401)
        for field in ["agent_id", "model_path", "engine_name"] {
            var object = good.objectValue!
            _ = object.removeValue(forKey: field)
            let r = try h.execute(.post, "/api/v1/quicktest", json: .object(object))
            #expect(r.status == 400)
            #expect(r.error?.contains(field) == true)
        }
        #expect(try h.execute(.post, "/api/v1/quicktest", headers: [("Content-Type", "application/json")], body: Array("{not json".utf8), token: h.adminToken).status == 400)
        #expect(try h.execute(.post, "/api/v1/quicktest", json: ["agent_id": 5, "model_path": "m", "engine_name": "v"]).status == 400)
        var forceWrong = good.objectValue!
        forceWrong["force"] = "yes"
        #expect(try h.execute(.post, "/api/v1/quicktest", json: .object(forceWrong)).status == 400)
        let missing = try h.execute(
            .post, "/api/v1/quicktest", json: ["agent_id": "ffffffffffffffff", "model_path": "m", "engine_name": "vllm"])
        #expect(missing.status == 404)
        #expect(try h.store.quickTests.list(status: nil, agentName: nil, limit: 10, offset: 0).total == 0)
    }

    @Test func modelFormatCheckRejectsUnlessForced() throws {
        let h = try APIHarness.control()
        defer { h.close() }
        let agent = try h.addAgent(name: "gpu-1")
        func post(_ path: String, _ engine: String, force: Bool? = nil) throws -> TestResponse {
            var object = JSONObject([
                ("agent_id", .string(agent)), ("model_path", .string(path)), ("engine_name", .string(engine)),
            ])
            if let force { object["force"] = .bool(force) }
            return try h.execute(.post, "/api/v1/quicktest", json: .object(object))
        }
        // By extension (the path is not on this server).
        let rejected = try post("/nowhere/model-q4.gguf", "vllm")
        #expect(rejected.status == 400)
        #expect(rejected.error?.contains("gguf") == true)
        #expect(rejected.error?.contains("vllm") == true)
        #expect(try post("/nowhere/model-q4.gguf", "vllm", force: true).status == 202)
        #expect(try post("/nowhere/model-q4.gguf", "llama_cpp").status == 202)
        #expect(try post("/nowhere/unknown-format", "llama_cpp").status == 202)

        // On disk: a folder of safetensors, a folder with pytorch_model.bin, a .gguf file.
        let safetensors = h.directory.path + "/st-model"
        let pytorch = h.directory.path + "/pt-model"
        mkdir(safetensors, 0o755)
        mkdir(pytorch, 0o755)
        for file in [safetensors + "/model-00001.safetensors", pytorch + "/pytorch_model.bin", h.directory.path + "/x.gguf"] {
            let fd = open(file, O_CREAT | O_WRONLY, 0o644)
            close(fd)
        }
        let st = try post(safetensors, "llama_cpp")
        #expect(st.status == 400)
        #expect(st.error?.contains("safetensors") == true)
        #expect(try post(safetensors, "vllm").status == 202)
        #expect(try post(safetensors, "mlx").status == 202)
        #expect(try post(pytorch, "ollama").status == 400)
        #expect(try post(pytorch, "vllm").status == 202)
        #expect(try post(h.directory.path + "/x.gguf", "exllamav2").status == 202)
        #expect(try post(h.directory.path + "/x.gguf", "mlx").status == 400)
        #expect(try post(h.directory.path + "/x.gguf", "mlx", force: true).status == 202)
        #expect(try post(h.directory.path + "/x.gguf", "mlx", force: false).status == 400)
    }

    @Test func listFiltersAndEnvelope() throws {
        let h = try APIHarness.control()
        defer { h.close() }
        let a = try h.addAgent(name: "alpha")
        let b = try h.addAgent(name: "beta")
        var ids: [String] = []
        for (agent, count) in [(a, 3), (b, 2)] {
            for i in 0..<count {
                let r = try h.execute(
                    .post, "/api/v1/quicktest",
                    json: ["agent_id": .string(agent), "model_path": .string("m\(i)"), "engine_name": "vllm"])
                ids.append(try #require(r.json?["id"]?.stringValue))
            }
        }
        #expect(try h.execute(.post, "/api/v1/quicktest/\(ids[0])/status", json: ["status": "running"]).status == 200)
        #expect(try h.execute(.post, "/api/v1/quicktest/\(ids[4])/status", json: ["status": "running"]).status == 200)

        let all = try h.execute(.get, "/api/v1/quicktest/", admin: false)
        #expect(all.status == 200)
        #expect(all.json?["total"]?.intValue == 5)
        #expect(all.json?["page"]?.intValue == 1 && all.json?["per_page"]?.intValue == 25 && all.json?["pages"]?.intValue == 1)
        // Newest first.
        #expect(all.json?["items"]?.arrayValue?.first?["id"]?.stringValue == ids[4])

        let beta = try h.execute(.get, "/api/v1/quicktest?agent_name=beta")
        #expect(beta.json?["total"]?.intValue == 2)
        #expect(beta.json?["items"]?.arrayValue?.allSatisfy { $0["agent_name"]?.stringValue == "beta" } == true)

        let running = try h.execute(.get, "/api/v1/quicktest?status=running")
        #expect(Set(running.json?["items"]?.arrayValue?.compactMap { $0["id"]?.stringValue } ?? []) == [ids[0], ids[4]])
        #expect(try h.execute(.get, "/api/v1/quicktest?status=running&agent_name=alpha").json?["total"]?.intValue == 1)

        let paged = try h.execute(.get, "/api/v1/quicktest?per_page=2&page=3")
        #expect(paged.json?["items"]?.arrayValue?.count == 1)
        #expect(paged.json?["pages"]?.intValue == 3)
        #expect(try h.execute(.get, "/api/v1/quicktest?page=zero").status == 400)
        #expect(try h.execute(.get, "/api/v1/quicktest?per_page=0").status == 400)
        #expect(try h.execute(.get, "/api/v1/quicktest/ffffffffffffffff").status == 404)
    }

    @Test func logsAcceptAdminOrOwningAgentToken() throws {
        let h = try APIHarness.control()
        defer { h.close() }
        let agent = try h.addAgent(name: "gpu-1", token: "agent-one-token")
        try h.addAgent(name: "gpu-2", token: "agent-two-token")
        let id = try #require(
            try h.execute(.post, "/api/v1/quicktest", json: ["agent_id": .string(agent), "model_path": "m", "engine_name": "vllm"])
                .json?["id"]?.stringValue)
        let events = h.subscribe(source: id)

        let byAgent = try h.execute(.post, "/api/v1/quicktest/\(id)/logs", json: ["line": "pulling image"], token: "agent-one-token")
        #expect(byAgent.status == 200)
        #expect(byAgent.json?["ok"]?.boolValue == true)
        #expect(try h.execute(.post, "/api/v1/quicktest/\(id)/logs", json: ["line": "starting"]).status == 200)
        // Another agent's token: its test is not found for that agent (SPEC §7.2), nothing logged.
        #expect(try h.execute(.post, "/api/v1/quicktest/\(id)/logs", json: ["line": "x"], token: "agent-two-token").status == 404)
        #expect(try h.execute(.post, "/api/v1/quicktest/\(id)/logs", json: ["line": "x"], token: "no-such-token").status == 403)
        #expect(try h.execute(.post, "/api/v1/quicktest/\(id)/logs", json: ["line": "x"], admin: false).status == 401)
        #expect(try h.execute(.post, "/api/v1/quicktest/\(id)/logs", json: ["line": 3]).status == 400)
        #expect(try h.execute(.post, "/api/v1/quicktest/\(id)/logs", json: [:]).status == 400)
        // Unknown test: credentials first.
        #expect(try h.execute(.post, "/api/v1/quicktest/ffffffffffffffff/logs", json: ["line": "x"], admin: false).status == 401)
        #expect(
            try h.execute(.post, "/api/v1/quicktest/ffffffffffffffff/logs", json: ["line": "x"], token: "no-such-token")
                .status == 403)
        #expect(
            try h.execute(.post, "/api/v1/quicktest/ffffffffffffffff/logs", json: ["line": "x"], token: "agent-one-token")
                .status == 404)
        #expect(try h.execute(.post, "/api/v1/quicktest/ffffffffffffffff/logs", json: ["line": "x"]).status == 404)

        let logs = try h.execute(.get, "/api/v1/quicktest/\(id)/logs", admin: false)
        #expect(logs.status == 200)
        #expect(logs.json?["lines"]?.arrayValue?.compactMap { $0["line"]?.stringValue } == ["pulling image", "starting"])
        #expect(logs.json?["lines"]?.arrayValue?.first?["created_at"]?.stringValue?.hasSuffix("Z") == true)
        #expect(try h.execute(.get, "/api/v1/quicktest/ffffffffffffffff/logs").status == 404)

        let logEvents = events.frames.filter { $0.type == "log" }
        #expect(logEvents.map { $0.data["line"]?.stringValue } == ["pulling image", "starting"])
        #expect(logEvents.allSatisfy { $0.data["test_id"]?.stringValue == id })
    }

    @Test func statusTransitionsStampTimesAndPublish() throws {
        let h = try APIHarness.control()
        defer { h.close() }
        let agent = try h.addAgent(name: "gpu-1", token: "agent-one-token")
        let id = try #require(
            try h.execute(.post, "/api/v1/quicktest", json: ["agent_id": .string(agent), "model_path": "m", "engine_name": "vllm"])
                .json?["id"]?.stringValue)
        let events = h.subscribe(source: id)

        let running = try h.execute(.post, "/api/v1/quicktest/\(id)/status", json: ["status": "running"], token: "agent-one-token")
        #expect(running.status == 200)
        #expect(running.json?["ok"]?.boolValue == true && running.json?["status"]?.stringValue == "running")
        let afterRunning = try h.execute(.get, "/api/v1/quicktest/\(id)").json ?? .null
        #expect(afterRunning["status"]?.stringValue == "running")
        #expect(afterRunning["started_at"]?.stringValue != nil)
        #expect(afterRunning["completed_at"]?.isNull == true)

        #expect(try h.execute(.post, "/api/v1/quicktest/\(id)/status", json: ["status": "exploded"]).status == 400)
        #expect(try h.execute(.post, "/api/v1/quicktest/\(id)/status", json: ["status": "queued"]).status == 400)
        #expect(try h.execute(.post, "/api/v1/quicktest/\(id)/status", json: [:]).status == 400)
        #expect(try h.execute(.post, "/api/v1/quicktest/\(id)/status", json: ["status": "failed"], admin: false).status == 401)
        #expect(try h.execute(.post, "/api/v1/quicktest/\(id)/status", json: ["status": "failed"], token: "nope").status == 403)
        #expect(try h.execute(.post, "/api/v1/quicktest/ffffffffffffffff/status", json: ["status": "failed"]).status == 404)

        let failed = try h.execute(.post, "/api/v1/quicktest/\(id)/status", json: ["status": "failed", "error": "OOM"])
        #expect(failed.status == 200)
        let after = try h.execute(.get, "/api/v1/quicktest/\(id)").json ?? .null
        #expect(after["status"]?.stringValue == "failed")
        #expect(after["error"]?.stringValue == "OOM")
        #expect(after["completed_at"]?.stringValue != nil)
        #expect(after["started_at"]?.stringValue == afterRunning["started_at"]?.stringValue)

        let statuses = events.frames.filter { $0.type == "status" }
        #expect(statuses.map { $0.data["status"]?.stringValue } == ["running", "failed"])
        #expect(statuses.last?.data["error"]?.stringValue == "OOM")
        #expect(statuses.allSatisfy { $0.data["test_id"]?.stringValue == id })
        // The agent's command is retired once the test is over.
        #expect(try h.store.quickTests.commands(agentID: agent, status: "queued").isEmpty)
    }

    @Test func lifecycleIsTheSharedStatusPath() throws {
        let h = try APIHarness.control()
        defer { h.close() }
        let agent = try h.addAgent(name: "gpu-1")
        let id = try #require(
            try h.execute(.post, "/api/v1/quicktest", json: ["agent_id": .string(agent), "model_path": "m", "engine_name": "vllm"])
                .json?["id"]?.stringValue)
        let events = h.subscribe(source: agent)
        let quickTests = h.services.quickTests
        #expect(try quickTests.setStatusNow(testID: id, status: .completed, error: nil))
        #expect(try !quickTests.setStatusNow(testID: "ffffffffffffffff", status: .completed, error: nil))
        #expect(throws: (any Error).self) {
            try quickTests.setStatusNow(testID: id, status: "bogus", error: nil)
        }
        #expect(try h.store.quickTests.get(id: id)?.status == "completed")
        #expect(events.frames.map(\.type) == ["status"])
    }

    @Test func agentCapabilitiesPerArchitecture() throws {
        let h = try APIHarness.control()
        defer { h.close() }
        let x86 = try h.addAgent(name: "x86-box", cpuArch: "x86_64")
        let arm = try h.addAgent(name: "arm-box", cpuArch: "aarch64")

        let one = try h.execute(.get, "/api/v1/quicktest/agent-capabilities?agent_id=\(arm)", admin: false)
        #expect(one.status == 200)
        let entry = try #require(one.json?[arm])
        #expect(one.json?.objectValue?.count == 1)
        #expect(entry["name"]?.stringValue == "arm-box")
        #expect(entry["cpu_arch"]?.stringValue == "aarch64")
        let engines = try #require(entry["engines"]?.objectValue)
        #expect(engines.keys == ["vllm", "llama_cpp", "ollama", "exllamav2", "mlx"])
        #expect(engines["exllamav2"]?["compatible"]?.boolValue == false)
        #expect(engines["exllamav2"]?["reason"]?.stringValue?.contains("aarch64") == true)
        #expect(engines["vllm"]?["compatible"]?.boolValue == true)
        #expect(engines["vllm"]?["reason"] == nil)

        let all = try h.execute(.get, "/api/v1/quicktest/agent-capabilities")
        #expect(Set(all.json?.objectValue?.keys ?? []) == [x86, arm])
        #expect(all.json?[x86]?["engines"]?["exllamav2"]?["compatible"]?.boolValue == true)
        #expect(try h.execute(.get, "/api/v1/quicktest/agent-capabilities?agent_id=ffffffffffffffff").status == 404)
    }

    @Test func engineCatalogFileMatchesBuiltIn() throws {
        // Tests/KittAPITests/<this file> → repository root → Config/.
        var root = #filePath
        for _ in 0..<3 { root = String(root[..<root.lastIndex(of: "/")!]) }
        let fd = open(root + "/Config/engines.json", O_RDONLY)
        #expect(fd >= 0)
        if fd >= 0 { close(fd) }
        let catalog = EngineCatalog.load(configDirectory: root + "/Config")
        #expect(catalog.engines == EngineCatalog.builtIn.engines)
        #expect(catalog.engine("exllamav2")?.unsupportedPlatforms == ["arm64", "aarch64"])
        #expect(try EngineCatalog.parse(Array(#"{"engines":{"x":{"formats":["gguf"]}}}"#.utf8)).engines.map(\.name) == ["x"])
        #expect(throws: (any Error).self) { try EngineCatalog.parse(Array("[]".utf8)) }
    }
}
