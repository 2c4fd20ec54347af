import Foundation
@testable import KittApp
import Testing

/// How many import readers scan at once (`ActiveReaders`), and that the readers park and
/// wake without losing a scan (`DirectoryReaders`).
@Suite struct ImportReadersTests {
    @Test func allReadersWhileScansReadTheDiskOnePerCoreOtherwise() {
        var active = ActiveReaders(readers: 8, cores: 2)
        #expect(active.count == 8)  // until the first window says otherwise
        for _ in 0..<ActiveReaders.window - 1 { active.record(readDisk: false) }
        #expect(active.count == 8)
        active.record(readDisk: false)
        #expect(active.count == 2)
        // A window with 1 scan in 16 from the disk brings every reader back...
        for scan in 0..<ActiveReaders.window { active.record(readDisk: scan < ActiveReaders.diskScans) }
        #expect(active.count == 8)
        // ...one fewer does not.
        for scan in 0..<ActiveReaders.window { active.record(readDisk: scan < ActiveReaders.diskScans - 1) }
        #expect(active.count == 2)
        // More cores than readers: all of them, always.
        var wide = ActiveReaders(readers: 4, cores: 16)
        for _ in 0..<ActiveReaders.window { wide.record(readDisk: false) }
        #expect(wide.count == 4)
    }

    /// Files just written are in the page cache: after a window of scans only one reader
    /// (one core) goes on, the others parked, and every scan still arrives.
    @Test func cachedScansParkReadersAndLoseNothing() throws {
        let root = FileManager.default.temporaryDirectory.appendingPathComponent("kitt-readers-\(UUID().uuidString)")
        defer { try? FileManager.default.removeItem(at: root) }
        let count = 3 * ActiveReaders.window
        for n in 0..<count {
            let directory = root.appendingPathComponent("run-\(n)")
            try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
            try Data(#"{"model": "m\#(n)", "engine": "e", "timestamp": "2026-01-01T00:00:00Z"}"#.utf8)
                .write(to: directory.appendingPathComponent("metrics.json"))
        }
        let readers = DirectoryReaders(readers: 4, cores: 1)
        let slots = (0..<count).map { readers.scan(root.appendingPathComponent("run-\($0)").path) }
        let models = slots.map { slot -> String? in
            guard case .document(let document)? = slot.wait()?.file?.parsed else { return nil }
            return document.model
        }
        #expect(models == (0..<count).map { "m\($0)" })
        #expect(readers.activeCount == 1)
        readers.close()  // returns: parked readers wake and stop
    }
}
