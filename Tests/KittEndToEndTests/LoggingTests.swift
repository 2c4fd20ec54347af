import Foundation
import KittAPI
import KittJSON
@testable import KittApp
import KittTestSupport
import Testing

/// The log (SPEC §7.3): access lines with time, query, user agent and request id; JSON lines;
/// lifecycle lines; `--quiet` silences only the access log; the banner names the bound address.
@Suite(.serialized) struct LoggingTests {
    let cli = CommandLineTests()

    /// One request on a new TLS connection; returns the response.
    func get(_ target: String, port: Int, ca: String?, headers: String = "") throws -> TestResponse {
        let client = try RawClient(port: port, caFile: ca)
        try client.send("GET \(target) HTTP/1.1\r\nHost: localhost\r\nUser-Agent: log-test/1.0 \"quoted\"\r\n\(headers)Connection: close\r\n\r\n")
        return try client.readResponse()
    }

    @Test func accessLine_hasTimestampQueryUserAgentAndTheRequestIDReturned() throws {
        let data = TempDirectory("kitt-log")
        let (child, banner) = try cli.startWeb([], dataDir: data.path)
        defer { child.signal(SIGTERM); _ = child.waitForExit(timeout: 10) }
        let response = try get("/api/v1/results?model=m%201&engine=x", port: banner.port, ca: banner.caPath)
        let requestID = try #require(response.headers["X-Request-Id"])
        #expect(requestID.count >= 8)
        #expect(child.waitForOutput("id=\(requestID)"), "stdout: \(child.stdout)")
        let line = try #require(child.stdout.split(separator: "\n").first { $0.contains("id=\(requestID)") })
        let pattern = #/^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{6}Z 127\.0\.0\.1 GET /api/v1/results\?model=m%201&engine=x 200 \d+ [0-9.]+ms "log-test/1\.0 \\"quoted\\"" id=[0-9a-f]+$/#
        #expect(line.wholeMatch(of: pattern) != nil, "\(line)")

        // A sane id from the client (a proxy's) is kept, so both logs agree; a hostile one is replaced.
        let kept = try get("/api/v1/health", port: banner.port, ca: banner.caPath, headers: "X-Request-Id: edge-42.a_b\r\n")
        #expect(kept.headers["X-Request-Id"] == "edge-42.a_b")
        let replaced = try get("/api/v1/health", port: banner.port, ca: banner.caPath, headers: "X-Request-Id: a b\"c\r\n")
        #expect(replaced.headers["X-Request-Id"] != nil && replaced.headers["X-Request-Id"] != "a b\"c")
    }

    @Test func banner_namesTheBoundAddressAndTheURL() throws {
        let data = TempDirectory("kitt-log")
        let (child, banner) = try cli.startWeb([], dataDir: data.path)
        defer { child.signal(SIGTERM); _ = child.waitForExit(timeout: 10) }
        #expect(child.stdout.contains("listening on 127.0.0.1:\(banner.port) (this machine only)"), "\(child.stdout)")
        #expect(banner.url == "https://127.0.0.1:\(banner.port)/api/v1/")
    }

    @Test func quiet_silencesTheAccessLogOnly() throws {
        let data = TempDirectory("kitt-log")
        let (child, banner) = try cli.startWeb(["--quiet"], dataDir: data.path)
        defer { child.signal(SIGTERM); _ = child.waitForExit(timeout: 10) }
        #expect(banner.port > 0 && banner.token != nil, "the banner is printed with --quiet: \(child.stdout)")
        #expect(try get("/api/v1/health", port: banner.port, ca: banner.caPath).status == 200)
        // A lifecycle line after the request proves the log was flushed past it.
        let register = try RawClient(port: banner.port, caFile: banner.caPath)
        let body = #"{"name":"quiet-agent","hostname":"h1"}"#
        try register.send(
            "POST /api/v1/agents/register HTTP/1.1\r\nHost: localhost\r\nAuthorization: Bearer \(banner.token ?? "")\r\n"
                + "Content-Type: application/json\r\nContent-Length: \(body.utf8.count)\r\nConnection: close\r\n\r\n\(body)")
        #expect(try register.readResponse().status == 201)
        #expect(child.waitForOutput("agent quiet-agent"), "no lifecycle line: \(child.stdout)")
        #expect(!child.stdout.contains("GET /api/v1/health"), "\(child.stdout)")
    }

    @Test func agentGoingOffline_isLogged() throws {
        let data = TempDirectory("kitt-log")
        let (child, banner) = try cli.startWeb(["--agent-offline-after", "1"], dataDir: data.path)
        defer { child.signal(SIGTERM); _ = child.waitForExit(timeout: 10) }
        let register = try RawClient(port: banner.port, caFile: banner.caPath)
        let body = #"{"name":"fading-agent","hostname":"h3"}"#
        try register.send(
            "POST /api/v1/agents/register HTTP/1.1\r\nHost: localhost\r\nAuthorization: Bearer \(banner.token ?? "")\r\n"
                + "Content-Type: application/json\r\nContent-Length: \(body.utf8.count)\r\nConnection: close\r\n\r\n\(body)")
        let agentID = try #require(try register.readResponse().json?["agent_id"]?.stringValue)
        #expect(child.waitForOutput("agent fading-agent (\(agentID)) online"), "\(child.stdout)")
        #expect(child.waitForOutput("agent fading-agent (\(agentID)) offline", timeout: 15), "\(child.stdout)")
        let line = try #require(child.stdout.split(separator: "\n").first { $0.hasSuffix("(\(agentID)) offline") })
        #expect(line.wholeMatch(of: #/\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{6}Z agent fading-agent \([0-9a-f]{16}\) offline/#) != nil, "\(line)")
    }

    @Test func jsonFormat_writesOneObjectPerLine_withAccessAndLifecycleFields() throws {
        let data = TempDirectory("kitt-log")
        let (child, _) = try cli.startWeb(["--log-format", "json"], dataDir: data.path)
        defer { child.signal(SIGTERM); _ = child.waitForExit(timeout: 10) }
        var port = 0
        var token = ""
        var ca: String?
        for line in child.stdout.split(separator: "\n") {
            let object = try #require(try? JSON(parsing: Array(line.utf8)), "not JSON: \(line)")
            let message = object["msg"]?.stringValue ?? ""
            if message.hasPrefix("URL: ") { port = Int(message.split(separator: ":").last?.prefix { $0.isNumber } ?? "") ?? 0 }
            if message.hasPrefix("Auth token"), let range = message.range(of: "): ") { token = String(message[range.upperBound...]) }
            if message.hasPrefix("TLS CA certificate: ") { ca = String(message.dropFirst("TLS CA certificate: ".count)) }
        }
        try #require(port > 0, "\(child.stdout)")
        #expect(try get("/api/v1/agents/nope?x=1", port: port, ca: ca).status == 404)
        let register = try RawClient(port: port, caFile: ca)
        let body = #"{"name":"json-agent","hostname":"h2"}"#
        try register.send(
            "POST /api/v1/agents/register HTTP/1.1\r\nHost: localhost\r\nAuthorization: Bearer \(token)\r\n"
                + "Content-Type: application/json\r\nContent-Length: \(body.utf8.count)\r\nConnection: close\r\n\r\n\(body)")
        #expect(try register.readResponse().status == 201)
        #expect(child.waitForOutput("\"event\":\"agent_status\""), "\(child.stdout)")
        let objects = child.stdout.split(separator: "\n").compactMap { try? JSON(parsing: Array($0.utf8)) }
        #expect(objects.count == child.stdout.split(separator: "\n").count, "every line is JSON")
        let access = try #require(objects.first { $0["target"]?.stringValue == "/api/v1/agents/nope?x=1" })
        #expect(access["type"]?.stringValue == "access")
        #expect(access["route"]?.stringValue == "/api/v1/agents/:id")
        #expect(access["status"]?.intValue == 404)
        #expect(access["user_agent"]?.stringValue == "log-test/1.0 \"quoted\"")
        #expect(access["request_id"]?.stringValue?.isEmpty == false)
        #expect(access["time"]?.stringValue?.hasSuffix("Z") == true)
        let lifecycle = try #require(objects.first { $0["event"]?.stringValue == "agent_status" })
        #expect(lifecycle["name"]?.stringValue == "json-agent")
        #expect(lifecycle["status"]?.stringValue == "online")
    }
}

/// The words of lifecycle lines for quick tests and campaigns (agents are covered end to end above).
@Suite struct LifecycleLineTests {
    @Test func quickTestAndCampaignTransitions_areDescribed_logLinesAreNot() {
        #expect(
            LifecycleLog.describe("status", ["status": "failed", "test_id": "abc", "error": "engine crashed"])
                == "quick test abc failed: engine crashed")
        #expect(LifecycleLog.describe("status", ["status": "running", "campaign_id": "c1"]) == "campaign c1 running")
        #expect(LifecycleLog.describe("campaign_created", ["campaign_id": "c1", "name": "nightly"]) == "campaign c1 created (nightly)")
        #expect(LifecycleLog.describe("log", ["line": "x", "test_id": "abc"]) == nil)
    }
}

/// The banner's first lines for each kind of bound address.
@Suite struct BannerTests {
    @Test func wildcardAddresses_sayEveryInterface_andGiveAURLForOtherMachines() {
        let v4 = Banner.addressLines(host: "0.0.0.0", port: 8080, url: "https://localhost:8080", legacy: false, hostName: "gpu-lab")
        #expect(v4 == [
            "kitt \(KittVersion.current) listening on 0.0.0.0:8080 (every IPv4 interface)",
            "URL: https://localhost:8080/api/v1/",
            "From other machines: https://gpu-lab:8080/api/v1/",
        ])
        let v6 = Banner.addressLines(host: "::", port: 9000, url: "http://localhost:9000", legacy: true, hostName: "h")
        #expect(v6.first == "kitt \(KittVersion.current) legacy dashboard (read-only) listening on [::]:9000 (every interface)")
        #expect(v6.last == "From other machines: http://h:9000/")
        let one = Banner.addressLines(host: "10.1.2.3", port: 1, url: "https://10.1.2.3:1", legacy: false, hostName: "h")
        #expect(one == ["kitt \(KittVersion.current) listening on 10.1.2.3:1 (this address only)", "URL: https://10.1.2.3:1/api/v1/"])
    }
}
