import Dispatch
import Foundation
import KittJSON
import KittTestSupport
import Synchronization
import Testing

/// "Acknowledged means durable": results answered 202 survive `kill -9` of the server in the
/// middle of a concurrent write load (issue 3 item 4).
@Suite(.serialized) struct DurabilityTests {
    static let token = TestServer.defaultToken

    static func document(_ writer: Int, _ index: Int) -> String {
        """
        {"command_id":"c","status":"completed","result_data":{"model":"m\(writer)","engine":"vllm",\
        "suite_name":"quick","timestamp":"2026-11-30T00:00:\(String(format: "%02d", index % 60))Z","passed":true,\
        "total_benchmarks":1,"passed_count":1,"failed_count":0,"total_time_seconds":1.5,"kitt_version":"1",\
        "results":[{"test_name":"throughput","test_version":"1","run_number":\(index),"passed":true,\
        "metrics":{"avg_tps":\(index).5},"errors":[]}]}}
        """
    }

    static func post(_ client: RawClient, _ path: String, _ body: String) throws -> TestResponse {
        let bytes = Array(body.utf8)
        try client.send(
            "POST \(path) HTTP/1.1\r\nHost: localhost\r\nAuthorization: Bearer \(token)\r\n"
                + "Content-Type: application/json\r\nContent-Length: \(bytes.count)\r\n\r\n")
        try client.send(bytes)
        return try client.readResponse(timeout: 10)
    }

    @Test func acknowledgedResultsSurviveKill9DuringConcurrentWrites() throws {
        let data = TempDirectory("kitt-durable")
        try #require(FileManager.default.isExecutableFile(atPath: CommandLineTests.kitt), "build kitt first")
        let child = try ChildProcess(
            CommandLineTests.kitt,
            ["web", "--host", "127.0.0.1", "--port", "0", "--data-dir", data.path, "--auth-token", Self.token],
            environment: CommandLineTests.environment(home: data.path))
        try #require(child.waitForOutput("Data: "), "no banner: \(child.stdout) \(child.stderr)")
        let banner = CommandLineTests.Banner(child.stdout)

        let admin = try RawClient(port: banner.port, caFile: banner.caPath)
        let registered = try Self.post(admin, "/api/v1/agents/register", #"{"name":"gpu-1","hostname":"h1"}"#)
        let agentID = try #require(registered.json?["agent_id"]?.stringValue, "\(registered)")

        // Eight agents' worth of writers, each on its own keep-alive TLS connection, until the
        // server dies under them. Only results answered 202 count as acknowledged.
        let acknowledged = Mutex<[String]>([])
        let writers = DispatchGroup()
        for writer in 0..<8 {
            DispatchQueue(label: "durability.writer.\(writer)").async(group: writers) {
                guard let client = try? RawClient(port: banner.port, caFile: banner.caPath) else { return }
                for index in 0..<100_000 {
                    guard
                        let response = try? Self.post(
                            client, "/api/v1/agents/\(agentID)/results", Self.document(writer, index)),
                        response.status == 202, let id = response.json?["result_id"]?.stringValue
                    else { return }
                    acknowledged.withLock { $0.append(id) }
                }
            }
        }
        #expect(E2E.eventually(timeout: 20) { acknowledged.withLock { $0.count } >= 300 })
        child.signal(SIGKILL)
        #expect(writers.wait(timeout: .now() + 20) == .success)
        _ = child.waitForExit(timeout: 10)
        let ids = acknowledged.withLock { $0 }
        #expect(ids.count >= 300)

        // A new server on the same data dir must have every acknowledged result.
        let server = try TestServer.start(directory: data)
        defer { server.stop() }
        let reader = try server.connect()
        var missing: [String] = []
        for id in ids {
            try reader.send("GET /api/v1/results/\(id) HTTP/1.1\r\nHost: localhost\r\n\r\n")
            let response = try reader.readResponse()
            if response.status != 200 || response.json?["id"]?.stringValue != id { missing.append(id) }
        }
        #expect(missing.isEmpty, "\(missing.count) of \(ids.count) acknowledged results lost")
    }
}
