import Foundation
import KittStore
import KittTestSupport
import Testing

@testable import KittAPI

/// `LegacyResultsDirectory`: KITT's results directories read in place (kitt web --legacy --results-dir).
@Suite struct LegacyResultsDirectoryTests {
    static func document(model: String, engine: String, timestamp: String, passed: Bool = true) -> String {
        """
        {"model": "\(model)", "engine": "\(engine)", "suite_name": "quick", "timestamp": "\(timestamp)",
         "passed": \(passed), "total_benchmarks": 1, "passed_count": \(passed ? 1 : 0), "failed_count": \(passed ? 0 : 1),
         "total_time_seconds": 2.5, "results": []}
        """
    }

    static func write(_ text: String, _ path: String) throws {
        try FileManager.default.createDirectory(
            atPath: (path as NSString).deletingLastPathComponent, withIntermediateDirectories: true)
        try text.write(toFile: path, atomically: false, encoding: .utf8)
    }

    @Test func readsKittResultsAndKarrLayouts_newestFirst_leavingOutDotDirsAndBrokenFiles() throws {
        let root = TempDirectory("kitt-results-dir")
        try Self.write(Self.document(model: "Qwen", engine: "vllm", timestamp: "2025-01-01T00:00:00"),
                       root.path + "/kitt-results/Qwen/vllm/20250101/metrics.json")
        try Self.write(Self.document(model: "llama", engine: "tgi", timestamp: "2025-02-01T00:00:00", passed: false),
                       root.path + "/karr-abc123/llama/tgi/20250201/metrics.json")
        try Self.write(Self.document(model: "top", engine: "ollama", timestamp: "2024-12-01T00:00:00"),
                       root.path + "/metrics.json")
        try Self.write(Self.document(model: "git", engine: "x", timestamp: "2026-01-01T00:00:00"),
                       root.path + "/karr-abc123/.git/lfs/metrics.json")
        try Self.write("{broken", root.path + "/kitt-results/broken/metrics.json")
        try Self.write(Self.document(model: "other", engine: "x", timestamp: "2026-01-01T00:00:00"),
                       root.path + "/kitt-results/notes.json")

        let directory = LegacyResultsDirectory(root: root.path, refreshAfter: 3600)
        let loaded = directory.load()
        #expect(loaded.results == 3 && loaded.skipped == 1)
        #expect(directory.runs(model: nil, engine: nil, limit: -1).map(\.model) == ["llama", "Qwen", "top"])
        #expect(directory.run(at: 0)?.id == "karr-abc123/llama/tgi/20250201/metrics.json")
        #expect(directory.run(at: 3) == nil)
        #expect(directory.groups(model: nil, engine: "tgi").map { [$0.runs, $0.passed] } == [[1, 0]])
        #expect(directory.distinctModelsAndEngines().engines == ["ollama", "tgi", "vllm"])
    }

    @Test func refreshesInTheBackground_rereadingOnlyChangedFiles_andStaysBounded() throws {
        let root = TempDirectory("kitt-results-dir")
        try Self.write(Self.document(model: "a", engine: "vllm", timestamp: "2025-01-01T00:00:00"),
                       root.path + "/kitt-results/a/metrics.json")
        let directory = LegacyResultsDirectory(root: root.path, refreshAfter: 0, maxFiles: 2)
        #expect(directory.load().results == 1)
        try Self.write(Self.document(model: "b", engine: "vllm", timestamp: "2025-01-02T00:00:00"),
                       root.path + "/karr-x/b/metrics.json")
        // A request answers from memory at once and schedules the rescan; a later one sees the file.
        var models: [String] = []
        for _ in 0..<250 {
            models = directory.runs(model: nil, engine: nil, limit: -1).map(\.model)
            if models == ["b", "a"] { break }
            usleep(20_000)
        }
        #expect(models == ["b", "a"])
        // A third file is over the bound of two: left out, and said so.
        try Self.write(Self.document(model: "c", engine: "vllm", timestamp: "2025-01-03T00:00:00"),
                       root.path + "/kitt-results/c/metrics.json")
        let bounded = directory.load()
        #expect(bounded.results == 2 && bounded.skipped == 1)
    }
}
