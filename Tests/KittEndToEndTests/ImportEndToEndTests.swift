import Foundation
import KittTestSupport
import Testing

/// `kitt import` as a separate process (issue 10): into a running server's database (the
/// next request sees it, however the server cached), its exit codes and what it prints.
@Suite(.serialized) struct ImportEndToEndTests {
    static func metrics(model: String, second: Int) -> String {
        """
        {"model": "\(model)", "engine": "vllm", "suite_name": "quick", "timestamp": "2026-03-01T00:00:\(10 + second)Z",
         "results": [{"test_name": "throughput", "metrics": {"avg_tps": \(100 + second)}}]}
        """
    }

    /// Writes `files` (relative path → text) under a new directory.
    static func tree(_ files: [(String, String)]) throws -> TempDirectory {
        let root = TempDirectory("kitt-import-e2e")
        for (path, text) in files {
            let full = root.path + "/" + path
            try FileManager.default.createDirectory(
                atPath: (full as NSString).deletingLastPathComponent, withIntermediateDirectories: true)
            try text.write(toFile: full, atomically: false, encoding: .utf8)
        }
        return root
    }

    func kittImport(_ arguments: [String]) throws -> (status: Int32, stdout: String, stderr: String) {
        try #require(FileManager.default.isExecutableFile(atPath: CommandLineTests.kitt), "build kitt first: swift build")
        let home = TempDirectory("kitt-import-home")
        return try ChildProcess.run(
            CommandLineTests.kitt, ["import"] + arguments, environment: CommandLineTests.environment(home: home.path),
            timeout: 60)
    }

    @Test func importIntoARunningServerIsVisibleToTheNextRequest() throws {
        let server = try E2E.server()
        defer { server.stop() }
        // Answers the server has computed (and may keep) before the import.
        #expect(try server.request("GET", "/api/v1/results/?per_page=5").json?["total"]?.intValue == 0)
        #expect(try server.request("GET", "/api/v1/results/aggregate?metric=avg_tps").json?.arrayValue?.isEmpty == true)

        let files = try Self.tree([
            ("a/metrics.json", Self.metrics(model: "m1", second: 1)),
            ("b/metrics.json", Self.metrics(model: "m2", second: 2)),
            ("c/metrics.json", Self.metrics(model: "m2", second: 3)),
        ])
        let wal = server.directory.path + "/kitt.db-wal"
        #expect(FileManager.default.fileExists(atPath: wal))
        let result = try kittImport(["--data-dir", server.directory.path, files.path])
        #expect(result.status == 0, "\(result.stderr)")
        #expect(result.stdout == "imported 3 result(s), skipped 0 already imported, 0 invalid\n")
        // The import closed its connections as the last one it could see: had the server lost
        // its lock on the database file, SQLite would have deleted the WAL the server still
        // writes to (its later commits then invisible to every other process, and lost in a
        // crash).
        #expect(FileManager.default.fileExists(atPath: wal), "the running server's WAL was deleted")

        let list = try server.request("GET", "/api/v1/results/?per_page=5")
        #expect(list.json?["total"]?.intValue == 3)
        #expect(list.json?["items"]?.arrayValue?.first?["model"]?.stringValue == "m2")
        let aggregate = try server.request("GET", "/api/v1/results/aggregate?metric=avg_tps").json?.arrayValue ?? []
        #expect(aggregate.map { $0["model"]?.stringValue ?? "" } == ["m1", "m2"])
        #expect(aggregate.map { $0["count"]?.intValue ?? 0 } == [1, 2])
        #expect(aggregate.last?["avg_tps_avg"]?.doubleValue == 102.5)
    }

    @Test func invalidFilesAreNamedOnceAndMakeTheExitStatus1() throws {
        let data = TempDirectory("kitt-import-data")
        let files = try Self.tree([
            ("ok1/metrics.json", Self.metrics(model: "m1", second: 1)),
            ("ok2/metrics.json", Self.metrics(model: "m1", second: 2)),
            ("copy/metrics.json", Self.metrics(model: "m1", second: 1)),  // the same run as ok1
            ("broken/metrics.json", "{\"model\": "),
            ("notes/readme.txt", "not a result"),
        ])
        let first = try kittImport(["--data-dir", data.path + "/kitt", files.path])
        #expect(first.status == 1)
        #expect(first.stdout == "imported 2 result(s), skipped 1 already imported, 1 invalid\n")
        let complaints = first.stderr.split(separator: "\n").filter { $0.hasPrefix("invalid ") }
        #expect(complaints.count == 1, "\(first.stderr)")
        #expect(complaints.first?.contains("broken/metrics.json") == true)
        #expect(!first.stderr.contains("copy/metrics.json"), "already-imported files are counted, not listed")
        // Not a terminal: plain progress lines, the last one for the whole directory.
        #expect(first.stderr.contains("importing: 4/4 files (100%)"), "\(first.stderr)")

        let again = try kittImport(["--data-dir", data.path + "/kitt", files.path])
        #expect(again.status == 1)
        #expect(again.stdout == "imported 0 result(s), skipped 3 already imported, 1 invalid\n")

        let clean = try Self.tree([("x/metrics.json", Self.metrics(model: "m3", second: 5))])
        let ok = try kittImport(["--data-dir", data.path + "/kitt", clean.path])
        #expect(ok.status == 0, "\(ok.stderr)")
        #expect(ok.stdout == "imported 1 result(s), skipped 0 already imported, 0 invalid\n")
    }

    @Test func aMissingDirectoryIsOneErrorLineAndNoSummary() throws {
        let data = TempDirectory("kitt-import-data")
        let result = try kittImport(["--data-dir", data.path + "/kitt", data.path + "/nope"])
        #expect(result.status == 1)
        #expect(result.stdout.isEmpty, "no 'imported 0' line: \(result.stdout)")
        let lines = result.stderr.split(separator: "\n")
        #expect(lines.count == 1, "\(result.stderr)")
        #expect(lines.first?.contains("cannot read directory \(data.path)/nope: No such file or directory") == true)
    }
}
