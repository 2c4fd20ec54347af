import Foundation
import KittTestSupport
import Testing

@testable import KittAgent

struct EngineInventoryTests {
    static func executable(_ path: String) throws {
        try Data("#!/bin/sh\n".utf8).write(to: URL(fileURLWithPath: path))
        try FileManager.default.setAttributes([.posixPermissions: 0o755], ofItemAtPath: path)
    }

    static func process(_ proc: String, pid: Int, _ argv: [String]) throws {
        try FileManager.default.createDirectory(atPath: "\(proc)/\(pid)", withIntermediateDirectories: true)
        let bytes: [UInt8] = argv.flatMap { Array($0.utf8) + [0] }
        try Data(bytes).write(to: URL(fileURLWithPath: "\(proc)/\(pid)/cmdline"))
    }

    @Test func findsInstalledAndRunningEngines() throws {
        let dir = TempDirectory("kitt-engines")
        let bin1 = dir.path + "/bin1", bin2 = dir.path + "/bin2", proc = dir.path + "/proc"
        for folder in [bin1, bin2, proc] { try FileManager.default.createDirectory(atPath: folder, withIntermediateDirectories: true) }
        try Self.executable(bin2 + "/vllm")
        try Self.executable(bin1 + "/llama-server")
        try Data("not executable".utf8).write(to: URL(fileURLWithPath: bin1 + "/ollama"))
        try Self.process(proc, pid: 10, ["/usr/bin/python3", "/opt/venv/bin/vllm", "serve", "org/model"])
        try Self.process(proc, pid: 11, ["python", "-m", "mlx_lm.server.main"])
        try Self.process(proc, pid: 12, ["/bin/bash"])
        try FileManager.default.createDirectory(atPath: proc + "/self", withIntermediateDirectories: true)

        let engines = EngineInventory.scan(path: "\(bin1):\(bin2)", procRoot: proc)
        #expect(engines == [
            .init(engine: "vllm", installed: true, running: true, binaryPath: bin2 + "/vllm"),
            .init(engine: "llama_cpp", installed: true, running: false, binaryPath: bin1 + "/llama-server"),
            .init(engine: "mlx", installed: false, running: true, binaryPath: ""),
        ])
    }

    @Test func nothingFoundIsEmpty() {
        #expect(EngineInventory.scan(path: "/nonexistent", procRoot: "/nonexistent").isEmpty)
    }
}
