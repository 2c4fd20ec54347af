import Foundation
import KittJSON
import KittTestSupport
import Synchronization
import Testing

#if canImport(Glibc)
    import Glibc
#endif

/// A fake OpenAI-compatible engine: plain HTTP on 127.0.0.1:0, a blocking accept loop on its own
/// Thread and a Thread per connection (no Swift concurrency). Behaviour by model name:
/// `timings[model]` for normal models, names containing "error" get a 500, "hang" never answers.
final class FakeOpenAIEngine: @unchecked Sendable {
    struct Timing {
        /// Non-streaming: the whole response after `delay`.
        var delay: Double
        /// Streaming: first token after `ttft`, then one token every `tokenGap`.
        var ttft: Double
        var tokenGap: Double
        var tokens: Int
    }

    let timings: [String: Timing]
    private(set) var port = 0
    private let listener: Int32
    private let requests = Mutex<[(path: String, model: String, stream: Bool)]>([])
    private let stopped = Mutex(false)

    init(timings: [String: Timing]) throws {
        self.timings = timings
        listener = socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
        var address = sockaddr_in()
        address.sin_family = sa_family_t(AF_INET)
        address.sin_addr.s_addr = inet_addr("127.0.0.1")
        address.sin_port = 0
        let bound = withUnsafePointer(to: &address) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) {
                bind(listener, $0, socklen_t(MemoryLayout<sockaddr_in>.size))
            }
        }
        guard bound == 0, listen(listener, 64) == 0 else { throw POSIXError(.EADDRINUSE) }
        var length = socklen_t(MemoryLayout<sockaddr_in>.size)
        _ = withUnsafeMutablePointer(to: &address) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { getsockname(listener, $0, &length) }
        }
        port = Int(UInt16(bigEndian: address.sin_port))
        let thread = Thread { [self] in acceptLoop() }
        thread.start()
    }

    var url: String { "http://127.0.0.1:\(port)" }
    var seen: [(path: String, model: String, stream: Bool)] { requests.withLock { $0 } }

    func stop() {
        stopped.withLock { $0 = true }
        // The accept thread closes the fd once woken (no reuse race with other tests).
        shutdown(listener, Int32(SHUT_RDWR))
    }

    private func acceptLoop() {
        defer { close(listener) }
        while true {
            let fd = accept(listener, nil, nil)
            if fd < 0 {
                if errno == EINTR { continue }
                return
            }
            Thread { [self] in
                serve(fd)
                close(fd)
            }.start()
        }
    }

    private func serve(_ fd: Int32) {
        var data: [UInt8] = []
        var buffer = [UInt8](repeating: 0, count: 8192)
        var bodyStart: Int?
        var length = 0
        while true {
            let n = recv(fd, &buffer, buffer.count, 0)
            if n <= 0 { return }
            data += buffer[0..<n]
            if bodyStart == nil, let end = find(Array("\r\n\r\n".utf8), in: data) {
                bodyStart = end + 4
                let head = String(decoding: data[0..<end], as: UTF8.self).lowercased()
                for line in head.split(separator: "\r\n") where line.hasPrefix("content-length:") {
                    length = Int(line.dropFirst("content-length:".count).trimmingCharacters(in: .whitespaces)) ?? 0
                }
            }
            if let bodyStart, data.count - bodyStart >= length { break }
        }
        let head = String(decoding: data, as: UTF8.self)
        let path = head.split(separator: " ").dropFirst().first.map(String.init) ?? ""
        let body = (try? JSON(parsing: Array(data[(bodyStart ?? 0)...]))) ?? .null
        let model = body["model"]?.stringValue ?? ""
        let stream = body["stream"]?.boolValue ?? false
        requests.withLock { $0.append((path, model, stream)) }

        if model.contains("hang") {
            for _ in 0..<300 where !stopped.withLock({ $0 }) { Thread.sleep(forTimeInterval: 0.1) }
            return
        }
        if model.contains("error") {
            send(
                fd, json: #"{"error":{"message":"model exploded","type":"server_error"}}"#,
                status: "500 Internal Server Error")
            return
        }
        guard let timing = timings[model] else {
            send(fd, json: #"{"error":{"message":"no such model"}}"#, status: "404 Not Found")
            return
        }
        if !stream {
            Thread.sleep(forTimeInterval: timing.delay)
            send(
                fd,
                json: """
                    {"id":"cmpl-1","object":"text_completion","model":"\(model)",\
                    "choices":[{"index":0,"text":"\(String(repeating: " tok", count: timing.tokens))","finish_reason":"length"}],\
                    "usage":{"prompt_tokens":9,"completion_tokens":\(timing.tokens),"total_tokens":\(9 + timing.tokens)}}
                    """, status: "200 OK")
            return
        }
        write(
            fd,
            "HTTP/1.1 200 OK\r\nContent-Type: text/event-stream\r\nTransfer-Encoding: chunked\r\nConnection: close\r\n\r\n"
        )
        Thread.sleep(forTimeInterval: timing.ttft)
        for index in 0..<timing.tokens {
            if index > 0 { Thread.sleep(forTimeInterval: timing.tokenGap) }
            chunk(fd, "data: {\"choices\":[{\"index\":0,\"text\":\" t\(index)\"}]}\n\n")
        }
        chunk(fd, "data: [DONE]\n\n")
        write(fd, "0\r\n\r\n")
    }

    private func send(_ fd: Int32, json: String, status: String) {
        write(
            fd,
            "HTTP/1.1 \(status)\r\nContent-Type: application/json\r\nContent-Length: \(json.utf8.count)\r\nConnection: close\r\n\r\n\(json)"
        )
    }

    private func chunk(_ fd: Int32, _ text: String) {
        write(fd, String(text.utf8.count, radix: 16) + "\r\n" + text + "\r\n")
    }

    private func write(_ fd: Int32, _ text: String) {
        let bytes = Array(text.utf8)
        var offset = 0
        while offset < bytes.count {
            let n = bytes[offset...].withUnsafeBytes { Glibc.send(fd, $0.baseAddress, $0.count, Int32(MSG_NOSIGNAL)) }
            if n <= 0 { return }
            offset += n
        }
    }

    private func find(_ needle: [UInt8], in haystack: [UInt8]) -> Int? {
        guard haystack.count >= needle.count else { return nil }
        for i in 0...(haystack.count - needle.count) where Array(haystack[i..<(i + needle.count)]) == needle {
            return i
        }
        return nil
    }
}

/// The real `kitt agent` executable (built by `swift build`) as a child process.
final class AgentProcess: @unchecked Sendable {
    let process = Process()
    let logPath: String

    init(arguments: [String], home: String) throws {
        let binary = APIHarness.repositoryRoot + "/.build/debug/kitt"
        guard FileManager.default.isExecutableFile(atPath: binary) else {
            throw POSIXError(.ENOENT, userInfo: [NSLocalizedDescriptionKey: "build kitt first: \(binary)"])
        }
        logPath = home + "/agent.log"
        _ = FileManager.default.createFile(atPath: logPath, contents: nil)
        let log = try FileHandle(forWritingTo: URL(fileURLWithPath: logPath))
        process.executableURL = URL(fileURLWithPath: binary)
        process.arguments = ["agent"] + arguments
        process.environment = ["HOME": home, "PATH": "/usr/bin:/bin"]
        process.standardOutput = log
        process.standardError = log
        try process.run()
    }

    var log: String { (try? String(contentsOfFile: logPath, encoding: .utf8)) ?? "" }

    /// SIGTERM and wait (bounded); the exit status, nil when it did not exit in time.
    func terminate(timeout: Double = 20) -> Int32? {
        guard process.isRunning else { return process.terminationStatus }
        kill(process.processIdentifier, SIGTERM)
        let deadline = Date().addingTimeInterval(timeout)
        while process.isRunning && Date() < deadline { Thread.sleep(forTimeInterval: 0.05) }
        if process.isRunning {
            kill(process.processIdentifier, SIGKILL)
            process.waitUntilExit()
            return nil
        }
        return process.terminationStatus
    }

    deinit { if process.isRunning { kill(process.processIdentifier, SIGKILL) } }
}

@Suite(.serialized) struct AgentEndToEndTests {
    static let timings: [String: FakeOpenAIEngine.Timing] = [
        "org/fast": .init(delay: 0.10, ttft: 0.15, tokenGap: 0.02, tokens: 12),
        "org/slow": .init(delay: 0.25, ttft: 0.40, tokenGap: 0.03, tokens: 6),
    ]

    func metric(_ result: JSON?, _ name: String) -> Double? {
        result?["results"]?.arrayValue?.first?["metrics"]?[name]?.doubleValue
    }

    @Test func campaignQuickTestsCleanupRestartAndSigterm() throws {
        let engine = try FakeOpenAIEngine(timings: Self.timings)
        defer { engine.stop() }
        let home = TempDirectory("kitt-agent-home")
        let storage = home.path + "/models"
        let fm = FileManager.default
        try fm.createDirectory(atPath: storage + "/org/fast", withIntermediateDirectories: true)
        try fm.createDirectory(atPath: storage + "/org/slow", withIntermediateDirectories: true)
        try fm.createDirectory(atPath: home.path + "/outside", withIntermediateDirectories: true)
        try Data(count: 4096).write(to: URL(fileURLWithPath: storage + "/org/fast/model.safetensors"))
        try Data(count: 10).write(to: URL(fileURLWithPath: storage + "/org/slow/model.safetensors"))
        try Data(count: 10).write(to: URL(fileURLWithPath: home.path + "/outside/precious"))
        try fm.createSymbolicLink(atPath: storage + "/escape", withDestinationPath: home.path + "/outside")

        let dataDirectory = TempDirectory("kitt-agent-e2e")
        var server = try TestServer.start(directory: dataDirectory) { $0.quickTestTimeout = 60 }
        defer { server.stop() }
        let port = server.port
        let caFile = try #require(server.caFile)

        let agent = try AgentProcess(
            arguments: [
                "--server", "https://localhost:\(port)", "--token", TestServer.defaultToken, "--name", "e2e-agent",
                "--ca", caFile, "--storage-dir", storage, "--engine-url", engine.url, "--heartbeat-interval", "0.2",
                "--throughput-prompts", "4", "--throughput-concurrency", "2", "--latency-requests", "3",
                "--max-tokens", "16", "--engine-timeout", "1.5",
            ], home: home.path)
        defer { _ = agent.terminate() }

        // Registration with the machine's facts.
        var agentID = ""
        try waitFor("the agent to register", timeout: 20) {
            let list = try server.request("GET", "/api/v1/agents/")
            guard let item = list.json?["items"]?.arrayValue?.first(where: { $0["name"]?.stringValue == "e2e-agent" })
            else { return false }
            agentID = item["id"]?.stringValue ?? ""
            return !agentID.isEmpty
        }
        let registered = try server.request("GET", "/api/v1/agents/\(agentID)").json
        #expect(registered?["cpu_arch"]?.stringValue?.isEmpty == false)
        #expect((registered?["ram_gb"]?.doubleValue ?? 0) > 0)

        // A 2-model × 1-engine × 2-benchmark campaign.
        let created = try server.request(
            "POST", "/api/v1/campaigns/",
            json: [
                "name": "agent e2e", "agent_id": .string(agentID),
                "config": [
                    "models": [["name": "org/fast"], ["name": "org/slow"]], "engines": [["name": "vllm"]],
                    "benchmarks": ["throughput", "latency"], "suite_name": "quick",
                ],
            ])
        #expect(created.status == 201, "\(created)")
        let campaignID = try #require(created.json?["id"]?.stringValue)
        let launched = try server.request("POST", "/api/v1/campaigns/\(campaignID)/launch", json: [:])
        #expect(launched.status == 202, "\(launched)")

        // Restart the server mid-campaign, while the second run is under way: its reports must
        // wait for the new server (the agent retries them).
        try waitFor("the second campaign run to start", timeout: 30) {
            let done = try server.request("GET", "/api/v1/quicktest/?status=completed").json
            let running = try server.request("GET", "/api/v1/quicktest/?status=running").json
            return (done?["total"]?.intValue ?? 0) >= 1 && (running?["total"]?.intValue ?? 0) >= 1
        }
        server.stop()
        Thread.sleep(forTimeInterval: 1.5)
        server = try TestServer.start(directory: dataDirectory) {
            $0.port = port
            $0.quickTestTimeout = 60
        }

        try waitFor("the campaign to complete", timeout: 90) {
            let campaign = try server.request("GET", "/api/v1/campaigns/\(campaignID)").json
            return campaign?["status"]?.stringValue == "completed"
        }
        let campaign = try server.request("GET", "/api/v1/campaigns/\(campaignID)").json
        #expect(campaign?["succeeded"]?.intValue == 4, "\(String(describing: campaign))")
        #expect(campaign?["failed"]?.intValue == 0)

        // Stored results carry the metrics the fake engine's timings imply.
        for (model, timing) in Self.timings {
            let results = try server.request("GET", "/api/v1/results/?model=\(model)").json?["items"]?.arrayValue ?? []
            #expect(results.count == 2, "\(model): \(results.count) results")
            let throughput = results.first { $0["results"]?.arrayValue?.first?["test_name"] == "throughput" }
            let latency = results.first { $0["results"]?.arrayValue?.first?["test_name"] == "latency" }
            #expect(throughput?["engine"]?.stringValue == "vllm")
            #expect(throughput?["passed"]?.boolValue == true)
            // 4 prompts, 2 at a time, each `delay` long: at best 2 / delay requests per second.
            let best = 2 / timing.delay
            let rps = try #require(metric(throughput, "requests_per_second"))
            #expect(rps <= best * 1.02 && rps >= best * 0.4, "\(model) rps \(rps) vs \(best)")
            #expect(metric(throughput, "total_output_tokens") == Double(4 * timing.tokens))
            let tps = try #require(metric(throughput, "output_tokens_per_second"))
            #expect(abs(tps - rps * Double(timing.tokens)) < 0.05 * tps, "\(model) tokens/s \(tps)")
            // Lower bounds are exact (the engine's delays); upper bounds leave room for a loaded
            // machine (CI runs the browser tests beside this one) while still catching a
            // measurement that counts something other than the request.
            let slack = 1500.0
            let p50 = try #require(metric(throughput, "latency_ms_p50"))
            #expect(p50 >= timing.delay * 1000 && p50 < timing.delay * 1000 + slack, "\(model) latency p50 \(p50)")
            // Streaming: first token after ttft, the rest `tokenGap` apart.
            let ttft = try #require(metric(latency, "ttft_ms_p50"))
            #expect(ttft >= timing.ttft * 1000 && ttft < timing.ttft * 1000 + slack, "\(model) ttft \(ttft)")
            let total = try #require(metric(latency, "latency_ms_p99"))
            let streamTime = (timing.ttft + Double(timing.tokens - 1) * timing.tokenGap) * 1000
            #expect(total >= streamTime && total < streamTime + slack, "\(model) total \(total) vs \(streamTime)")
            #expect(metric(latency, "requests") == 3)
        }
        #expect(engine.seen.filter { $0.stream }.allSatisfy { $0.path == "/v1/completions" })

        // Quick tests against an engine that errors and one that hangs: failed, with the reason.
        for (model, reason) in [("org/error-model", "model exploded"), ("org/hang-model", "timed out")] {
            let queued = try server.request(
                "POST", "/api/v1/quicktest/",
                json: [
                    "agent_id": .string(agentID), "model_path": .string(model), "engine_name": "vllm", "force": true,
                ])
            #expect(queued.status == 202, "\(queued)")
            let testID = try #require(queued.json?["id"]?.stringValue)
            try waitFor("\(model) to fail", timeout: 30) {
                try server.request("GET", "/api/v1/quicktest/\(testID)").json?["status"]?.stringValue == "failed"
            }
            let test = try server.request("GET", "/api/v1/quicktest/\(testID)").json
            #expect(test?["error"]?.stringValue?.contains(reason) == true, "\(String(describing: test))")
            let lines = try server.request("GET", "/api/v1/quicktest/\(testID)/logs").json?["lines"]?.arrayValue ?? []
            #expect(lines.contains { $0["line"]?.stringValue?.contains(reason) == true })
        }

        // cleanup_storage: the named model goes; a path escaping through a symlink is refused.
        let cleanup = try server.request("POST", "/api/v1/agents/\(agentID)/cleanup", json: ["model_path": "org/fast"])
        #expect(cleanup.status == 202, "\(cleanup)")
        let escape = try server.request(
            "POST", "/api/v1/agents/\(agentID)/cleanup", json: ["model_path": "escape/precious"])
        #expect(escape.status == 202)
        try waitFor("the cleanups", timeout: 20) { agent.log.contains("refusing to remove escape/precious") }
        #expect(!fm.fileExists(atPath: storage + "/org/fast"))
        #expect(fm.fileExists(atPath: storage + "/org/slow/model.safetensors"))
        #expect(fm.fileExists(atPath: home.path + "/outside/precious"))
        #expect(agent.log.contains("freed 4.0 KiB (1 files)"))

        // SIGTERM during a test: the test is failed and reported, the agent exits 0.
        let hanging = try server.request(
            "POST", "/api/v1/quicktest/",
            json: [
                "agent_id": .string(agentID), "model_path": "org/hang-again", "engine_name": "vllm",
                "benchmark_name": "latency", "force": true,
            ])
        let hangingID = try #require(hanging.json?["id"]?.stringValue)
        try waitFor("the test to start", timeout: 20) {
            try server.request("GET", "/api/v1/quicktest/\(hangingID)").json?["status"]?.stringValue == "running"
        }
        #expect(agent.terminate() == 0, "\(agent.log.suffix(2000))")
        let stopped = try server.request("GET", "/api/v1/quicktest/\(hangingID)").json
        #expect(stopped?["status"]?.stringValue == "failed")
        #expect(stopped?["error"]?.stringValue?.contains("SIGTERM") == true, "\(String(describing: stopped))")
        #expect(agent.log.contains("registered as 'e2e-agent'"))
    }
}
