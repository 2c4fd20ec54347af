#if canImport(FoundationEssentials)
import FoundationEssentials
#else
import Foundation
#endif
import KittApp
import KittJSON
import KittStore
import KittTestSupport
import Testing

@Suite struct ResultsImportTests {
    @Test func importsEveryMetricsJSONAndReportsSkips() throws {
        let h = try APIHarness.agentFacing()
        let root = h.directory.path + "/results"
        let files: [(String, String)] = [
            ("run1/metrics.json", document(model: "a", day: 1)),
            ("run2/deep/er/metrics.json", document(model: "b", day: 2)),
            ("metrics.json", document(model: "c", day: 3)),
            ("run3/metrics.json", document(model: "a", day: 1)),  // same bytes as run1
            ("bad/metrics.json", "{not json"),
            ("nomodel/metrics.json", #"{"engine": "vllm"}"#),
            ("array/metrics.json", "[1, 2]"),
            ("other/summary.json", document(model: "z")),  // not a metrics.json: ignored
        ]
        for (path, text) in files {
            let full = root + "/" + path
            try FileManager.default.createDirectory(
                atPath: String(full[..<full.lastIndex(of: "/")!]), withIntermediateDirectories: true)
            try Array(text.utf8).write(to: full)
        }

        var invalid: [String: String] = [:]
        var progress: [ImportProgress] = []
        // Batches of 2: duplicates are found across batches and inside one.
        let report = ResultImporter.run(
            directory: root, store: h.store, batchSize: 2,
            onInvalid: { invalid[$0.replacing(root + "/", with: "")] = $1 }, onProgress: { progress.append($0) })
        #expect(report.error == nil)
        #expect(report.imported == 3)
        #expect(report.alreadyImported == 1)
        #expect(report.invalid == 3)
        #expect(invalid.keys.sorted() == ["array/metrics.json", "bad/metrics.json", "nomodel/metrics.json"])
        #expect(invalid["bad/metrics.json"]?.contains("malformed JSON") == true)
        #expect(invalid["nomodel/metrics.json"]?.contains("'model' is required") == true)
        #expect(report.summary == "imported 3 result(s), skipped 1 already imported, 3 invalid")
        // The last progress is the whole directory (7 metrics.json files).
        #expect(progress.last?.filesDone == 7 && progress.last?.filesTotal == 7 && progress.last?.imported == 3, "\(progress)")

        // Served as the files' bytes.
        let list = try h.execute(.get, "/api/v1/results")
        #expect(list.json?["total"]?.intValue == 3)
        let first = try #require(list.json?["items"]?.arrayValue?.first)
        #expect(first["model"]?.stringValue == "c")
        let id = try #require(first["id"]?.stringValue)
        #expect(try h.execute(.get, "/api/v1/results/\(id)").body == Array(#"{"id":"\#(id)","#.utf8) + Array(document(model: "c", day: 3).utf8).dropFirst())
        #expect(try h.execute(.get, "/api/v1/results/aggregate?metric=avg_tps").json?.arrayValue?.count == 3)

        // Again: nothing new.
        let again = ResultImporter.run(directory: root, store: h.store)
        #expect(again.imported == 0)
        #expect(again.alreadyImported == 4)
        #expect(again.invalid == 3)
        #expect(try h.execute(.get, "/api/v1/results").json?["total"]?.intValue == 3)
    }

    /// kitt adds `"id"` when it serves a result: a document bringing its own (in any spelling),
    /// or any key twice, is refused and reported, never stored.
    @Test func documentsWithTheirOwnIDOrARepeatedKey_areSkipped() throws {
        let h = try APIHarness.agentFacing()
        let root = h.directory.path + "/results"
        let files: [(String, String)] = [
            ("ok/metrics.json", document(model: "fine")),
            ("own-id/metrics.json", #"{"id": "x", "model": "a", "engine": "vllm"}"#),
            ("escaped-id/metrics.json", #"{"model": "a", "engine": "vllm", "\u0069d": 1}"#),
            ("twice/metrics.json", #"{"model": "a", "engine": "vllm", "model": "b"}"#),
            ("nested-twice/metrics.json", #"{"model": "a", "engine": "vllm", "results": [{"passed": true, "passed": false}]}"#),
        ]
        for (path, text) in files {
            let full = root + "/" + path
            try FileManager.default.createDirectory(
                atPath: String(full[..<full.lastIndex(of: "/")!]), withIntermediateDirectories: true)
            try Array(text.utf8).write(to: full)
        }
        var reasons: [String: String] = [:]
        let report = ResultImporter.run(
            directory: root, store: h.store, onInvalid: { reasons[$0.replacing(root + "/", with: "")] = $1 })
        #expect(report.imported == 1)
        #expect(report.invalid == 4)
        #expect(reasons["own-id/metrics.json"]?.contains("'id'") == true, "\(reasons)")
        #expect(reasons["escaped-id/metrics.json"]?.contains("'id'") == true, "\(reasons)")
        #expect(reasons["twice/metrics.json"]?.contains("duplicate key 'model'") == true, "\(reasons)")
        #expect(reasons["nested-twice/metrics.json"]?.contains("duplicate key 'passed'") == true, "\(reasons)")
        #expect(try h.execute(.get, "/api/v1/results").json?["total"]?.intValue == 1)
    }

    @Test func missingDirectoryIsAnError() throws {
        let h = try APIHarness.agentFacing()
        let report = ResultImporter.run(directory: h.directory.path + "/nope", store: h.store)
        #expect(report.imported == 0)
        #expect(report.error?.contains("cannot read directory") == true)
        #expect(report.error?.contains("No such file or directory") == true)
    }
}
