import Foundation
import KittAgent
import KittTestSupport
import Testing

@Suite struct StorageCleanerTests {
    let temp = TempDirectory("kitt-agent-cleanup")
    var root: String { temp.path + "/models" }
    var outside: String { temp.path + "/outside" }
    let fm = FileManager.default

    init() throws {
        try fm.createDirectory(atPath: temp.path + "/models/org/model-a", withIntermediateDirectories: true)
        try fm.createDirectory(atPath: temp.path + "/models/org/model-b", withIntermediateDirectories: true)
        try fm.createDirectory(atPath: temp.path + "/outside", withIntermediateDirectories: true)
        try Data(repeating: 1, count: 1000).write(to: URL(fileURLWithPath: root + "/org/model-a/weights.safetensors"))
        try Data(repeating: 2, count: 24).write(to: URL(fileURLWithPath: root + "/org/model-a/config.json"))
        try Data(repeating: 3, count: 500).write(to: URL(fileURLWithPath: root + "/org/model-b/model.gguf"))
        try Data(repeating: 4, count: 10).write(to: URL(fileURLWithPath: outside + "/precious.txt"))
        // A symlink inside model-a pointing outside: removing model-a removes the link, not the target.
        try fm.createSymbolicLink(atPath: root + "/org/model-a/escape", withDestinationPath: outside)
        try fm.createSymbolicLink(atPath: root + "/link-out", withDestinationPath: outside)
    }

    func exists(_ path: String) -> Bool { fm.fileExists(atPath: path) }

    @Test func removesOneModelAndCountsIt() throws {
        let freed = try StorageCleaner.clean(modelPath: "org/model-a", root: root)
        #expect(freed.bytes == 1024)
        #expect(freed.files == 2)
        #expect(!exists(root + "/org/model-a"))
        #expect(exists(root + "/org/model-b/model.gguf"))
        #expect(exists(outside + "/precious.txt"))
    }

    @Test func absolutePathInsideIsAccepted() throws {
        let freed = try StorageCleaner.clean(modelPath: root + "/org/model-b/model.gguf", root: root)
        #expect(freed.bytes == 500)
        #expect(!exists(root + "/org/model-b/model.gguf"))
    }

    @Test func refusesAnythingResolvingOutside() {
        for path in [
            "../outside", "org/../../outside/precious.txt", outside, outside + "/precious.txt", "link-out",
            "link-out/precious.txt", ".", "", "/", root, "org/..",
        ] {
            #expect(throws: CleanupError.self, "\(path)") { try StorageCleaner.clean(modelPath: path, root: root) }
        }
        #expect(exists(outside + "/precious.txt"))
        #expect(exists(root + "/org/model-a/weights.safetensors"))
        #expect(throws: CleanupError.self) { try StorageCleaner.clean(modelPath: "org/missing", root: root) }
    }

    @Test func wholeCacheEmptiesTheRootOnly() throws {
        let freed = try StorageCleaner.clean(modelPath: nil, root: root)
        #expect(freed.bytes == 1524)
        #expect(exists(root))
        #expect(try fm.contentsOfDirectory(atPath: root).isEmpty)
        #expect(exists(outside + "/precious.txt"))
        #expect(StorageCleaner.describe(bytes: 1536) == "1.5 KiB")
    }
}
