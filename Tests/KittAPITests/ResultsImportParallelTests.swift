#if canImport(FoundationEssentials)
import FoundationEssentials
#else
import Foundation
#endif
#if canImport(Glibc)
import Glibc
#endif
import KittApp
import KittSQLite
import KittStore
import KittTestSupport
import Testing

/// `kitt import` reads with several threads (`ImportScan`): whatever the interleaving, every
/// file is visited once, every invalid one reported once, and the store ends up with exactly
/// the distinct valid documents of the tree.
@Suite struct ResultsImportParallelTests {
    /// A tree written for the test, with what the import must see in it.
    struct Tree {
        let root: String
        /// Bytes of every file the import must visit (valid or not), by path.
        var visible: [String: [UInt8]] = [:]
        /// The visible files that are not result documents.
        var invalid: Set<String> = []

        init(root: String) { self.root = root }

        /// Writes `text` at `path` (under the root); `visible` says whether the import reaches it.
        mutating func write(_ path: String, _ text: String, visible: Bool = true, valid: Bool = true) throws {
            let full = root + "/" + path
            try FileManager.default.createDirectory(
                atPath: String(full[..<full.lastIndex(of: "/")!]), withIntermediateDirectories: true)
            try Array(text.utf8).write(to: full)
            guard visible else { return }
            self.visible[full] = Array(text.utf8)
            if !valid { invalid.insert(full) }
        }

        /// The documents the store must hold: each valid visible file's bytes, once.
        var distinctValidDocuments: [String] {
            Set(visible.filter { !invalid.contains($0.key) }.values.map { String(decoding: $0, as: UTF8.self) }).sorted()
        }
        var validFiles: Int { visible.count - invalid.count }
    }

    static let invalidTexts = ["{not json", #"{"engine": "vllm"}"#, "[1, 2]", "", #"{"id": "x", "model": "a", "engine": "e"}"#]

    /// Nested KITT-style runs, a flat directory of many runs (more than the readers may queue),
    /// duplicates across both, invalid files, files that are not visited (other names, links,
    /// beyond the depth limit), and a directory named metrics.json.
    static func makeTree(_ root: String) throws -> Tree {
        var tree = Tree(root: root)
        var run = 0
        func nextDocument() -> String {
            run += 1
            return document(model: "model-\(run % 7)", suite: "suite-\(run % 3)", day: 1 + run % 28, tps: Double(run))
        }
        var written: [String] = []  // valid texts, to copy as duplicates
        for model in 0..<3 {
            for engine in 0..<2 {
                for suite in 0..<3 {
                    for number in 0..<20 {
                        let path = "nested/m\(model)/e\(engine)/s\(suite)/run-\(number)/metrics.json"
                        if (model + engine + suite + number) % 17 == 0 {
                            try tree.write(path, invalidTexts[number % invalidTexts.count], valid: false)
                        } else if number % 9 == 4, let copy = written.last {
                            try tree.write(path, copy)
                        } else {
                            let text = nextDocument()
                            written.append(text)
                            try tree.write(path, text)
                        }
                        if number % 5 == 0 { try tree.write("nested/m\(model)/e\(engine)/s\(suite)/run-\(number)/log.txt", "x", visible: false) }
                    }
                }
            }
        }
        for number in 0..<700 {
            let path = "flat/run-\(number)/metrics.json"
            if number % 41 == 3 {
                try tree.write(path, invalidTexts[number % invalidTexts.count], valid: false)
            } else if number % 13 == 0 {
                try tree.write(path, written[number % written.count])
            } else {
                let text = nextDocument()
                written.append(text)
                try tree.write(path, text)
            }
        }
        // A result in the root itself, one inside a directory named metrics.json.
        try tree.write("metrics.json", nextDocument())
        try tree.write("odd/metrics.json/metrics.json", nextDocument())
        // Not visited: other names, and links (never followed) to a file and to a directory.
        try tree.write("odd/Metrics.json", nextDocument(), visible: false)
        try tree.write("odd/metrics.json.bak", nextDocument(), visible: false)
        // Links (never followed) to a result outside the tree and to its directory.
        let outside = root + "-outside/run"
        try FileManager.default.createDirectory(atPath: outside, withIntermediateDirectories: true)
        try Array(nextDocument().utf8).write(to: outside + "/metrics.json")
        try FileManager.default.createDirectory(atPath: root + "/odd/link", withIntermediateDirectories: true)
        #expect(symlink(outside + "/metrics.json", root + "/odd/link/metrics.json") == 0)
        #expect(symlink(outside, root + "/odd/linked-directory") == 0)
        // A chain deeper than the depth limit, with a result at every level.
        var chain = "chain"
        for depth in 1...70 {
            // `chain` at level `depth` is read only when depth < 64 (the root is level 0).
            try tree.write(chain + "/metrics.json", nextDocument(), visible: depth < 64)
            chain += "/d"
        }
        return tree
    }

    func storedDocuments(_ store: Store) throws -> [String] {
        try store.database.read { try $0.query("SELECT document FROM runs").compactMap { $0.string(0) } }.sorted()
    }

    @Test func parallelReadersVisitEveryFileOnceAndStoreTheDistinctValidDocuments() throws {
        let h = try APIHarness.agentFacing()
        let tree = try Self.makeTree(h.directory.path + "/results")
        let distinct = tree.distinctValidDocuments
        #expect(tree.visible.count > 800 && tree.invalid.count > 20 && distinct.count < tree.validFiles)

        // Eight readers, the flat directory listed 100 names at a time, odd batches.
        var reported: [String] = []
        var last: ImportProgress?
        let report = ResultImporter.run(
            directory: tree.root, store: h.store, batchSize: 7, progressEvery: 0.001, readers: 8, listingChunk: 100,
            onInvalid: { path, reason in
                reported.append(path)
                #expect(!reason.isEmpty)
            },
            onProgress: { last = $0 })
        #expect(report.error == nil)
        #expect(report.invalid == tree.invalid.count)
        #expect(reported.count == tree.invalid.count, "each invalid file is reported once")
        #expect(Set(reported) == tree.invalid)
        #expect(report.imported == distinct.count)
        #expect(report.alreadyImported == tree.validFiles - distinct.count)
        #expect(last?.filesDone == tree.visible.count && last?.filesTotal == tree.visible.count)
        #expect(last?.imported == distinct.count)
        #expect(try storedDocuments(h.store) == distinct)

        // Again with other settings: every valid file is already there, the invalid ones are
        // reported again, the store does not change.
        var again: [String] = []
        let second = ResultImporter.run(
            directory: tree.root + "/", store: h.store, readers: 3, onInvalid: { path, _ in again.append(path) })
        #expect(second.imported == 0)
        #expect(second.alreadyImported == tree.validFiles)
        #expect(second.invalid == tree.invalid.count)
        #expect(Set(again.map { $0.replacing(tree.root + "//", with: tree.root + "/") }) == tree.invalid)
        #expect(again.count == tree.invalid.count)
        #expect(try storedDocuments(h.store) == distinct)
    }

    /// Invalid files are reported in the walk's order (name order, a directory's file before
    /// its subdirectories), with the same reasons, however many readers read ahead.
    @Test func reportsComeInWalkOrderWhateverTheReaders() throws {
        let h = try APIHarness.agentFacing()
        let tree = try Self.makeTree(h.directory.path + "/results")
        var one: [String] = []
        var many: [String] = []
        var chunked: [String] = []
        _ = ResultImporter.run(directory: tree.root, store: h.store, readers: 1, onInvalid: { one.append("\($0): \($1)") })
        _ = ResultImporter.run(directory: tree.root, store: h.store, readers: 8, onInvalid: { many.append("\($0): \($1)") })
        _ = ResultImporter.run(
            directory: tree.root, store: h.store, readers: 5, listingChunk: 7, onInvalid: { chunked.append("\($0): \($1)") })
        #expect(one.count == tree.invalid.count)
        #expect(many == one)
        #expect(chunked == one)
        // Name order within a directory: the flat directory's runs come sorted by name.
        let flat = one.compactMap { $0.split(separator: ":").first.map(String.init) }.filter { $0.contains("/flat/") }
        #expect(flat == flat.sorted() && flat.count > 10)
    }

    /// When the store fails, the import stops: it neither reads the rest of the tree nor
    /// writes anything after the failure, and says why.
    @Test func aStoreErrorStopsTheImport() throws {
        let h = try APIHarness.agentFacing()
        var tree = Tree(root: h.directory.path + "/results")
        for number in 0..<600 {
            try tree.write("m/e/s/run-\(number)/metrics.json", document(model: "m", day: 1 + number % 28, tps: Double(number)))
        }
        try h.store.database.write {
            try $0.execute(
                """
                CREATE TRIGGER full_disk BEFORE INSERT ON runs WHEN (SELECT count(*) FROM runs) >= 6
                BEGIN SELECT RAISE(ABORT, 'disk full (test)'); END
                """)
        }
        var last: ImportProgress?
        let report = ResultImporter.run(directory: tree.root, store: h.store, batchSize: 2, onProgress: { last = $0 })
        #expect(report.error?.contains("disk full (test)") == true, "\(report)")
        #expect(report.imported == 6)
        #expect(try storedDocuments(h.store).count == 6)
        // Readers stop once the writer has failed: far from the whole tree is read.
        let visited = try #require(last?.filesDone)
        #expect(visited >= 8 && visited < 300, "\(visited) of 600 files read after the store failed")
    }
}
