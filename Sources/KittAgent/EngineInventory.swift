#if canImport(Glibc)
    import Glibc
#endif
import KittBase

/// The inference engines on this machine, for heartbeats (`engines: [{engine, installed,
/// running, version, binary_path}]`): an engine is installed when its server executable is on
/// PATH, running when a process was started from it (read from /proc/<pid>/cmdline).
public enum EngineInventory {
    public struct Engine: Sendable, Equatable {
        public let engine: String
        public let installed: Bool
        public let running: Bool
        public let binaryPath: String
    }

    /// kitt's engine names and the executables that serve them.
    static let executables: [(engine: String, names: [String])] = [
        ("vllm", ["vllm"]),
        ("llama_cpp", ["llama-server"]),
        ("ollama", ["ollama"]),
        ("mlx", ["mlx_lm.server"]),
    ]

    public static func scan(path: String, procRoot: String = "/proc") -> [Engine] {
        let commands = runningCommands(procRoot: procRoot)
        return executables.compactMap { entry in
            let found = entry.names.lazy.compactMap { findExecutable($0, in: path) }.first
            let running = entry.names.contains { name in
                commands.contains { $0 == name || $0.hasPrefix(name + ".") }
            }
            guard found != nil || running else { return nil }
            return Engine(engine: entry.engine, installed: found != nil, running: running, binaryPath: found ?? "")
        }
    }

    static func findExecutable(_ name: String, in path: String) -> String? {
        for directory in path.split(separator: ":") where !directory.isEmpty {
            let candidate = "\(directory)/\(name)"
            if access(candidate, X_OK) == 0 { return candidate }
        }
        return nil
    }

    /// The basenames of the first few arguments of every process (`python3 /usr/bin/vllm serve`
    /// and `python -m vllm.entrypoints...` both name vllm within them).
    static func runningCommands(procRoot: String) -> Set<String> {
        guard let directory = opendir(procRoot) else { return [] }
        defer { closedir(directory) }
        var names: Set<String> = []
        while let entry = readdir(directory) {
            let pid = withUnsafeBytes(of: entry.pointee.d_name) { raw in
                String(decoding: raw.prefix { $0 != 0 }, as: UTF8.self)
            }
            guard !pid.isEmpty, pid.utf8.allSatisfy({ (0x30...0x39).contains($0) }) else { continue }
            guard let cmdline = Files.readPrefix("\(procRoot)/\(pid)/cmdline", maxBytes: 4096), !cmdline.isEmpty else {
                continue
            }
            for argument in cmdline.split(separator: 0, omittingEmptySubsequences: true).prefix(4) {
                let text = String(decoding: argument, as: UTF8.self)
                names.insert(String(text.split(separator: "/").last ?? Substring(text)))
            }
        }
        return names
    }
}
