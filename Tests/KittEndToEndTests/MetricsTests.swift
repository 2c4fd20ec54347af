import Foundation
import KittTestSupport
import Testing

/// `GET /metrics` (SPEC §7.3): Prometheus text 0.0.4 that a real parser accepts, labelled by
/// route pattern, and `--metrics-token`.
@Suite(.serialized) struct MetricsTests {
    static let hasParser = ExternalTools.hasPythonModule("prometheus_client")

    /// Parses with prometheus_client (strict enough to reject a malformed line) and prints one
    /// `name|label=value,...|value` line per sample, labels sorted.
    static let parseScript = """
        import sys
        from prometheus_client.parser import text_string_to_metric_families
        text = open(sys.argv[1]).read()
        for family in text_string_to_metric_families(text):
            for s in family.samples:
                labels = ",".join(f"{k}={v}" for k, v in sorted(s.labels.items()))
                print(f"{s.name}|{labels}|{s.value}|{family.type}")
        """

    /// Samples keyed by `name|labels`, with their value.
    func parse(_ text: String) throws -> [String: Double] {
        let directory = TempDirectory("kitt-metrics")
        let file = directory.path + "/metrics.txt"
        try text.write(toFile: file, atomically: false, encoding: .utf8)
        let result = try ChildProcess.run("/usr/bin/env", ["python3", "-c", MetricsTests.parseScript, file])
        try #require(result.status == 0, "prometheus_client rejected the output: \(result.stderr)\n\(text)")
        var samples: [String: Double] = [:]
        for line in result.stdout.split(separator: "\n") {
            let fields = line.split(separator: "|", omittingEmptySubsequences: false)
            guard fields.count == 4, let value = Double(fields[2]) else { continue }
            samples["\(fields[0])|\(fields[1])"] = value
        }
        return samples
    }

    @Test(.enabled(if: MetricsTests.hasParser, "python3 prometheus_client is not installed (.ci/run installs it)"))
    func metrics_parseAndCountRequestsByRoutePattern() throws {
        let server = try E2E.server()
        defer { server.stop() }
        for _ in 0..<3 {
            #expect(try server.request("GET", "/api/v1/health").status == 200)
        }
        #expect(try server.request("GET", "/api/v1/agents/no-such-agent").status == 404)
        #expect(try server.request("GET", "/no/such/route/\(UUID().uuidString)").status == 404)

        let response = try server.request("GET", "/metrics", token: nil)
        #expect(response.status == 200)
        #expect(response.headers["Content-Type"] == "text/plain; version=0.0.4; charset=utf-8")
        let samples = try parse(response.text)

        #expect(samples["kitt_http_requests_total|code=200,method=GET,route=/api/v1/health"] == 3)
        // A path parameter is counted under its pattern, an unknown path under one label.
        #expect(samples["kitt_http_requests_total|code=404,method=GET,route=/api/v1/agents/:id"] == 1)
        #expect(samples["kitt_http_requests_total|code=404,method=GET,route=unmatched"] == 1)
        #expect(!response.text.contains("no-such-agent") && !response.text.contains("/no/such/route"))
        #expect(samples["kitt_http_request_duration_seconds_count|route=/api/v1/health"] == 3)
        #expect(samples["kitt_http_request_duration_seconds_bucket|le=+Inf,route=/api/v1/health"] == 3)
        // Six TLS connections so far, the scrape's included; all handshakes succeeded.
        #expect(samples["kitt_tls_handshakes_total|"].map { $0 >= 6 } == true)
        #expect(samples["kitt_tls_handshake_failures_total|"] == 0)
        #expect(samples["kitt_http_open_connections|transport=tls"].map { $0 >= 1 } == true)
        #expect(samples["kitt_http_open_connections|transport=plain"] == 0)
        #expect(samples["kitt_agents|status=online"] == 0)
        #expect(samples["kitt_quick_tests|status=queued"] == 0)
        #expect(samples["kitt_campaigns|status=draft"] == 0)
        #expect(samples["kitt_results_stored|"] == 0)
        #expect(samples["kitt_sse_subscribers|"] == 0)
        #expect(samples["process_resident_memory_bytes|"].map { $0 > 1_000_000 } == true)
        #expect(samples["process_open_fds|"].map { $0 > 3 } == true)
        #expect(samples["kitt_uptime_seconds|"].map { $0 > 0 } == true)
        #expect(samples["kitt_store_commit_duration_seconds_count|"] != nil)
    }

    @Test(.enabled(if: MetricsTests.hasParser, "python3 prometheus_client is not installed (.ci/run installs it)"))
    func metrics_countStoreWritesAndStatuses() throws {
        let server = try E2E.server()
        defer { server.stop() }
        let before = try parse(try server.request("GET", "/metrics", token: nil).text)
        let created = try server.request(
            "POST", "/api/v1/agents/register",
            json: ["name": "metrics-agent", "hostname": "metrics-host", "port": 8090])
        #expect(created.status == 200 || created.status == 201, "\(created)")
        let after = try parse(try server.request("GET", "/metrics", token: nil).text)
        #expect(after["kitt_agents|status=online"] == 1)
        #expect((after["kitt_store_write_batches_total|"] ?? 0) > (before["kitt_store_write_batches_total|"] ?? 0))
        #expect((after["kitt_store_commit_duration_seconds_count|"] ?? 0) >= 1)
        #expect(after["kitt_store_write_batches_redone_total|"] == 0)
        #expect(after["kitt_http_requests_total|code=200,method=GET,route=/metrics"] == 1)
    }

    static let hasPromtool = ExternalTools.has("promtool")

    /// promtool (Debian: prometheus) is stricter than the client parser: it also lints names,
    /// units, HELP texts and histogram shapes.
    @Test(.enabled(if: MetricsTests.hasPromtool, "promtool is not installed (Debian: prometheus; .ci/run installs it)"))
    func metrics_passPromtoolCheck() throws {
        let server = try E2E.server()
        defer { server.stop() }
        #expect(try server.request("GET", "/api/v1/health").status == 200)
        #expect(try server.request("GET", "/nowhere").status == 404)
        let response = try server.request("GET", "/metrics", token: nil)
        let directory = TempDirectory("kitt-promtool")
        let file = directory.path + "/metrics.txt"
        try response.text.write(toFile: file, atomically: false, encoding: .utf8)
        let result = try ChildProcess.run("/bin/sh", ["-c", "promtool check metrics < \"$1\"", "sh", file])
        #expect(result.status == 0, "promtool: \(result.stdout) \(result.stderr)")
        #expect(result.stdout.isEmpty && result.stderr.isEmpty, "promtool lint: \(result.stdout) \(result.stderr)")
    }

    @Test func metricsToken_isRequiredWhenConfigured() throws {
        let server = try E2E.server { $0.metricsToken = "scrape-secret" }
        defer { server.stop() }
        #expect(try server.request("GET", "/metrics", token: nil).status == 401)
        #expect(try server.request("GET", "/metrics", token: TestServer.defaultToken).status == 403)
        let allowed = try server.request("GET", "/metrics", token: "scrape-secret")
        #expect(allowed.status == 200)
        #expect(allowed.text.contains("# TYPE kitt_http_requests_total counter"))
    }

    @Test func sseSubscribers_areCounted() throws {
        let server = try E2E.server()
        defer { server.stop() }
        do {
            let stream = try server.connect()  // closed at the end of this scope
            try stream.send(E2E.get("/api/v1/events/stream"))
            _ = try stream.readUntil(": connected\n\n", timeout: 5)
            let open = try server.request("GET", "/metrics", token: nil).text
            #expect(open.contains("\nkitt_sse_subscribers 1\n"), "\(open)")
            #expect(open.contains("kitt_http_requests_total{route=\"/api/v1/events/stream\",method=\"GET\",code=\"200\"} 1"))
        }
        #expect(E2E.eventually { (try? server.request("GET", "/metrics", token: nil).text.contains("\nkitt_sse_subscribers 0\n")) == true })
    }

    @Test func metrics_areOpenByDefault() throws {
        let server = try E2E.server()
        defer { server.stop() }
        let response = try server.request("GET", "/metrics", token: nil)
        #expect(response.status == 200)
        #expect(response.text.contains("kitt_build_info{version="))
    }
}

