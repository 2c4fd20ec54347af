import Foundation
import KittHTTP
import KittJSON
import KittTestSupport
import Testing

@testable import KittAPI

/// The model endpoints without Devon: manifest, scan, quicktest/models and safe deletes.
@Suite(.serialized) struct ModelsDirectoryTests {
    static let manifest = """
        {
          "huggingface::org/beta": {"path": "org/beta", "source": "huggingface", "size_bytes": 3221225472,
                                    "metadata": {"format": ["safetensors"]}},
          "huggingface::Org/alpha": {"path": "%ROOT%/Org/alpha", "source": "huggingface", "size_bytes": 10,
                                     "metadata": {"format": ["gguf"]}},
          "ollama::solo.gguf": {"path": "solo.gguf", "source": "ollama", "size_bytes": 5}
        }
        """

    func writeManifest(_ rig: ModelsRig) throws {
        try ModelsDirectoryTests.manifest.replacingOccurrences(of: "%ROOT%", with: rig.modelDirectory)
            .write(toFile: rig.modelDirectory + "/manifest.json", atomically: false, encoding: .utf8)
        try rig.write("org/beta/model-00001.safetensors")
        try rig.write("org/beta/config.json")
        try rig.write("Org/alpha/alpha.Q4.gguf")
        try rig.write("solo.gguf")
    }

    func names(_ response: TestResponse, _ key: String) -> [String] {
        response.json?["items"]?.arrayValue?.compactMap { $0[key]?.stringValue } ?? []
    }

    @Test func localModelsFromTheManifest() throws {
        let rig = try ModelsRig()
        try writeManifest(rig)
        let response = rig.call(.get, "/api/v1/models/local")
        #expect(response.status == 200)
        #expect(names(response, "name") == ["Org/alpha", "org/beta", "solo.gguf"])
        let beta = try #require(response.json?["items"]?.arrayValue?[1])
        #expect(beta["path"]?.stringValue == "org/beta")
        #expect(beta["formats"]?.arrayValue == ["safetensors"])
        #expect(beta["size_gb"]?.doubleValue == 3.0)
        #expect(response.json?["total"]?.intValue == 3)
        #expect(response.json?["per_page"]?.intValue == 25)

        let paged = rig.call(.get, "/api/v1/models/local?per_page=1&page=2")
        #expect(names(paged, "name") == ["org/beta"])
        #expect(paged.json?["pages"]?.intValue == 3)
        #expect(rig.call(.get, "/api/v1/models/local?page=0").status == 400)
    }

    @Test func localModelsFromAScanWithoutManifest() throws {
        let rig = try ModelsRig()
        try rig.write("meta-llama/Llama-3-8B/model-1.safetensors", bytes: 1000)
        try rig.write("meta-llama/Llama-3-8B/model-2.safetensors", bytes: 1000)
        try rig.write("meta-llama/Llama-3-8B/pytorch_model.bin", bytes: 500)
        try rig.write("meta-llama/Llama-3-8B/README.md", bytes: 99)
        try rig.write("TheBloke/Mistral-GGUF/mistral.Q4_K_M.gguf", bytes: 10)
        try rig.write("standalone.gguf", bytes: 7)
        try rig.write("notes/readme.txt")
        let outside = TempDirectory("kitt-outside")
        try ModelsRig.write(outside.path + "/secret.gguf")
        try FileManager.default.createSymbolicLink(
            atPath: rig.modelDirectory + "/linked", withDestinationPath: outside.path)

        let response = rig.call(.get, "/api/v1/models/local")
        #expect(response.status == 200)
        #expect(names(response, "name") == ["meta-llama/Llama-3-8B", "standalone.gguf", "TheBloke/Mistral-GGUF"])
        let llama = try #require(response.json?["items"]?.arrayValue?.first)
        #expect(llama["formats"]?.arrayValue == ["pytorch", "safetensors"])
        #expect(llama["path"]?.stringValue == rig.modelDirectory + "/meta-llama/Llama-3-8B")
        #expect(llama["size_gb"]?.doubleValue == 0.0)
        let scanned = ModelDirectory(root: rig.modelDirectory).scan()
        #expect(scanned.first?.sizeBytes == 2500)
    }

    @Test func quicktestModelsListsManifestEntries() throws {
        let rig = try ModelsRig()
        let empty = rig.call(.get, "/api/v1/quicktest/models")
        #expect(empty.status == 200)
        #expect(empty.json?["total"]?.intValue == 0)

        try writeManifest(rig)
        let response = rig.call(.get, "/api/v1/quicktest/models")
        #expect(response.status == 200)
        #expect(names(response, "model_id") == ["Org/alpha", "org/beta", "solo.gguf"])
        let solo = try #require(response.json?["items"]?.arrayValue?[2])
        #expect(solo["source"]?.stringValue == "ollama")
        #expect(solo["size_bytes"]?.intValue == 5)
        #expect(solo["formats"]?.arrayValue == [])
        #expect(solo["path"]?.stringValue == "solo.gguf")
        let keys = response.json?["items"]?.arrayValue?.first?.objectValue?.keys ?? []
        #expect(keys == ["model_id", "path", "source", "size_bytes", "formats"])
    }

    @Test func deleteRemovesFilesAndTheManifestEntryOnce() throws {
        let rig = try ModelsRig()
        try writeManifest(rig)
        #expect(rig.call(.delete, "/api/v1/models/org/beta").status == 401)
        #expect(rig.call(.delete, "/api/v1/models/org/beta", token: "nope").status == 403)
        #expect(rig.exists("org/beta/model-00001.safetensors"))

        let first = rig.admin(.delete, "/api/v1/models/org/beta")
        #expect(first.status == 200)
        #expect(first.json?["deleted"]?.boolValue == true)
        #expect(!rig.exists("org/beta"))
        #expect(!rig.exists("org"))  // left empty, so removed
        #expect(rig.exists("Org/alpha/alpha.Q4.gguf"))
        let manifest = try JSON(
            parsing: Array(try Data(contentsOf: URL(fileURLWithPath: rig.modelDirectory + "/manifest.json"))))
        #expect(manifest.objectValue?.keys == ["huggingface::Org/alpha", "ollama::solo.gguf"])
        #expect(rig.admin(.delete, "/api/v1/models/org/beta").status == 404)

        // An absolute manifest path inside the dir, and a single file at the root.
        #expect(rig.admin(.delete, "/api/v1/models/Org/alpha").status == 200)
        #expect(!rig.exists("Org"))
        #expect(rig.admin(.delete, "/api/v1/models/solo.gguf").status == 200)
        #expect(!rig.exists("solo.gguf"))
        #expect(rig.exists("manifest.json"))
        #expect(rig.call(.get, "/api/v1/quicktest/models").json?["total"]?.intValue == 0)
    }

    @Test func deleteWithoutManifestRemovesTheScannedFolder() throws {
        let rig = try ModelsRig()
        try rig.write("org/m/a.gguf")
        try rig.write("org/m/sub/b.bin")
        try rig.write("org/other/c.gguf")
        #expect(rig.admin(.delete, "/api/v1/models/org/m").status == 200)
        #expect(!rig.exists("org/m"))
        #expect(rig.exists("org/other/c.gguf"))
        #expect(rig.admin(.delete, "/api/v1/models/org/m").status == 404)
        #expect(rig.admin(.delete, "/api/v1/models/never/was").status == 404)
    }

    @Test(arguments: [
        "/api/v1/models/..%2Fsentinel.txt",
        "/api/v1/models/%2e%2e/sentinel.txt",
        "/api/v1/models/org/%2E%2E/%2e%2e/sentinel.txt",
        "/api/v1/models/%2Ftmp%2Fsentinel.txt",
        "/api/v1/models/org/./m",
        "/api/v1/models/org%2F%2Fm",
        "/api/v1/models/org/m%00",
        "/api/v1/models/org%5C..%5Csentinel.txt",
        "/api/v1/models/%252e%252e/sentinel.txt",
        "/api/v1/models/manifest.json",
    ])
    func traversalIsRejectedAndTouchesNothing(_ target: String) throws {
        let rig = try ModelsRig()
        try writeManifest(rig)
        let sentinel = (rig.modelDirectory as NSString).deletingLastPathComponent + "/sentinel.txt"
        try "keep me".write(toFile: sentinel, atomically: false, encoding: .utf8)
        let manifestBefore = try Data(contentsOf: URL(fileURLWithPath: rig.modelDirectory + "/manifest.json"))

        let response = rig.admin(.delete, target)
        #expect(response.status == 400, "\(target): \(response)")
        #expect(FileManager.default.fileExists(atPath: sentinel))
        #expect(try Data(contentsOf: URL(fileURLWithPath: rig.modelDirectory + "/manifest.json")) == manifestBefore)
        #expect(rig.exists("org/beta/model-00001.safetensors"))
    }

    /// A model that is itself a symlink is removed as a link (SPEC §7.2); paths that escape
    /// through a symlinked *folder* are refused, and nothing outside is ever touched.
    @Test func symlinkModelsAreUnlinked_andEscapesThroughThemRefused() throws {
        let rig = try ModelsRig()
        let outside = TempDirectory("kitt-outside")
        try ModelsRig.write(outside.path + "/victim/weights.gguf")
        try FileManager.default.createDirectory(atPath: rig.modelDirectory + "/org", withIntermediateDirectories: true)
        try FileManager.default.createSymbolicLink(
            atPath: rig.modelDirectory + "/org/evil", withDestinationPath: outside.path + "/victim")
        try FileManager.default.createSymbolicLink(
            atPath: rig.modelDirectory + "/escape", withDestinationPath: outside.path)

        #expect(rig.admin(.delete, "/api/v1/models/escape/victim").status == 400)
        #expect(rig.admin(.delete, "/api/v1/models/org/evil").status == 200)
        #expect(rig.admin(.delete, "/api/v1/models/escape").status == 200)
        #expect(!rig.exists("org/evil") && !rig.exists("escape"))
        #expect(FileManager.default.fileExists(atPath: outside.path + "/victim/weights.gguf"))

        // A manifest entry whose path points outside the directory is refused as well.
        try #"{"huggingface::org/away": {"path": "\#(outside.path)/victim", "source": "huggingface", "size_bytes": 1}}"#
            .write(toFile: rig.modelDirectory + "/manifest.json", atomically: false, encoding: .utf8)
        #expect(rig.admin(.delete, "/api/v1/models/org/away").status == 400)
        #expect(FileManager.default.fileExists(atPath: outside.path + "/victim/weights.gguf"))
    }

    @Test func removeTreeNeverFollowsSymlinksInside() throws {
        let rig = try ModelsRig()
        let outside = TempDirectory("kitt-outside")
        try ModelsRig.write(outside.path + "/keep.gguf")
        try rig.write("org/m/a.gguf")
        try FileManager.default.createSymbolicLink(
            atPath: rig.modelDirectory + "/org/m/link", withDestinationPath: outside.path)
        #expect(rig.admin(.delete, "/api/v1/models/org/m").status == 200)
        #expect(!rig.exists("org/m"))
        #expect(FileManager.default.fileExists(atPath: outside.path + "/keep.gguf"))
    }
}
