import Foundation
import KittJSON
import KittTestSupport
import KittStore
import Testing

/// KITT 1.x's `kitt web` flags (SPEC §7.1): --results-dir, --tls-ca, --debug.
@Suite(.serialized) struct KITTWebFlagsTests {
    /// A KITT results tree: kitt-results/** and a KARR repository (with a .git to leave out).
    static func resultsTree() throws -> TempDirectory {
        let root = TempDirectory("kitt-results-tree")
        let files = [
            ("kitt-results/Qwen2.5-7B/vllm/2025-01-01T000000/metrics.json", "Qwen2.5-7B", "vllm", "2025-01-01T00:00:00", true),
            ("karr-rtx4090-24gb/Llama-3.1-8B/tgi/2025-02-01T000000/metrics.json", "Llama-3.1-8B", "tgi",
             "2025-02-01T00:00:00", false),
            ("karr-rtx4090-24gb/.git/objects/metrics.json", "not-a-result", "git", "2026-01-01T00:00:00", true),
        ]
        for (path, model, engine, timestamp, passed) in files {
            let full = root.path + "/" + path
            try FileManager.default.createDirectory(
                atPath: (full as NSString).deletingLastPathComponent, withIntermediateDirectories: true)
            try LegacyResultsDirectoryDocument.text(model: model, engine: engine, timestamp: timestamp, passed: passed)
                .write(toFile: full, atomically: false, encoding: .utf8)
        }
        return root
    }

    @Test func legacyResultsDir_servesTheFilesDirectly_withoutImportingThem() throws {
        let tree = try Self.resultsTree()
        let server = try E2E.server(insecure: true) { options in
            options.legacy = true
            options.resultsDirectory = tree.path
        }
        defer { server.stop() }
        let results = try server.request("GET", "/api/results", token: nil)
        #expect(results.status == 200)
        let items = try #require(results.json?.arrayValue, "\(results)")
        #expect(items.map { $0["model"]?.stringValue } == ["Llama-3.1-8B", "Qwen2.5-7B"])
        #expect(items.first?["id"]?.stringValue == "karr-rtx4090-24gb/Llama-3.1-8B/tgi/2025-02-01T000000/metrics.json")
        let second = try server.request("GET", "/api/results/1", token: nil)
        #expect(second.json?["engine"]?.stringValue == "vllm")
        #expect(try server.request("GET", "/api/results/2", token: nil).status == 404)
        let campaigns = try server.request("GET", "/api/campaigns?engine=tgi", token: nil)
        #expect(campaigns.json?.arrayValue?.map { $0["failed"]?.intValue } == [1])
        let page = try server.request("GET", "/", token: nil)
        #expect(page.status == 200 && page.text.contains("Qwen2.5-7B") && !page.text.contains("not-a-result"))
        // Read, not imported: the store holds nothing.
        #expect(try (server.app.context.store as? Store)?.legacyQueries.count() == 0)
    }

    @Test func resultsDirWithoutLegacy_importsTheFilesIntoTheStoreAtStart() throws {
        let tree = try Self.resultsTree()
        // `kitt import` takes every metrics.json under the directory (a KARR repository's .git included).
        try FileManager.default.removeItem(atPath: tree.path + "/karr-rtx4090-24gb/.git")
        let server = try E2E.server { $0.resultsDirectory = tree.path }
        defer { server.stop() }
        var total: Int?
        let arrived = E2E.eventually(timeout: 10) {
            total = try? server.request("GET", "/api/v1/results").json?["total"]?.intValue
            return total == 2
        }
        #expect(arrived, "results total: \(String(describing: total))")
        let engines = try server.request("GET", "/api/v1/results?engine=tgi").json?["items"]?.arrayValue
        #expect(engines?.first?["model"]?.stringValue == "Llama-3.1-8B")
    }

    @Test func tlsCA_isTheTrustAnchorInInstallScript() throws {
        let source = try E2E.server()  // only for a CA and a server certificate it signed
        let certs = source.directory.path + "/certs"
        source.stop()
        let caPEM = try String(contentsOfFile: certs + "/ca.pem", encoding: .utf8)
        let caBody = try #require(caPEM.split(separator: "\n").dropFirst().first.map(String.init))

        for withCA in [true, false] {
            let server = try E2E.server { options in
                options.tlsCertificate = certs + "/server.pem"
                options.tlsKey = certs + "/server-key.pem"
                options.tlsCA = withCA ? certs + "/ca.pem" : nil
            }
            defer { server.stop() }
            let client = try RawClient(port: server.port, caFile: certs + "/ca.pem")
            try client.send(E2E.get("/api/v1/agent/install.sh?name=gpu-ca-\(withCA)"))
            // install.sh packs the agent bundle on first use: seconds on a loaded machine.
            let script = try client.readResponse(timeout: 90)
            #expect(script.status == 200)
            #expect(script.text.contains(caBody) == withCA, "with --tls-ca: \(withCA)")
            #expect(script.text.contains("https://"), "\(script.text.prefix(400))")
        }
    }

    @Test func commandLine_acceptsKITTFlags_andChecksThem() throws {
        let kitt = CommandLineTests.kitt
        try #require(FileManager.default.isExecutableFile(atPath: kitt), "build kitt first")
        let data = TempDirectory("kitt-cli")
        let environment = CommandLineTests.environment(home: data.path)
        let help = try ChildProcess.run(kitt, ["web", "--help"], environment: environment)
        for flag in ["--results-dir", "--tls-ca", "--debug"] { #expect(help.stdout.contains(flag), "\(flag)") }

        let lonelyCA = try ChildProcess.run(kitt, ["web", "--tls-ca", "/etc/ca.pem"], environment: environment)
        #expect(lonelyCA.status == 2 && lonelyCA.stderr.contains("--tls-cert"), "\(lonelyCA.stderr)")
        let missing = try ChildProcess.run(
            kitt, ["web", "--legacy", "--results-dir", data.path + "/none", "--data-dir", data.path, "--port", "0"],
            environment: environment)
        #expect(missing.status == 1 && missing.stderr.contains("--results-dir"), "\(missing.stderr)")

        let tree = try Self.resultsTree()
        let child = try ChildProcess(
            kitt,
            ["web", "--legacy", "--results-dir", tree.path, "--debug", "--quiet", "--host", "127.0.0.1", "--port", "0",
             "--data-dir", data.path],
            environment: environment)
        #expect(child.waitForOutput("debug: results dir \(tree.path) (legacy: read directly)"), "\(child.stdout) \(child.stderr)")
        #expect(child.stdout.contains("Results: 2 from \(tree.path)"))
        child.signal(SIGTERM)
        #expect(child.waitForExit(timeout: 10) == 0)
    }
}

/// A metrics.json document in KITT's shape.
enum LegacyResultsDirectoryDocument {
    static func text(model: String, engine: String, timestamp: String, passed: Bool) -> String {
        """
        {"model": "\(model)", "engine": "\(engine)", "suite_name": "standard", "timestamp": "\(timestamp)",
         "passed": \(passed), "total_benchmarks": 1, "passed_count": \(passed ? 1 : 0),
         "failed_count": \(passed ? 0 : 1), "total_time_seconds": 12.5, "kitt_version": "1.7.0", "results": []}
        """
    }
}
