#if canImport(Glibc)
import Glibc
#endif
import KittBase
import KittJSON

/// The inference engines kitt knows: the model formats each takes, the CPU architectures it
/// does not run on, how it can be run (modes, default mode) and its container defaults.
/// Loaded once at startup from `Config/engines.json`
/// (`{"engines": {"<name>": {"formats", "unsupported_platforms", "modes", "default_mode",
/// "default_image", "container_port"}}}`).
public struct EngineCatalog: Sendable {
    public struct Engine: Sendable, Equatable {
        public var name: String
        public var formats: [String]
        public var unsupportedPlatforms: [String]
        /// `docker`, `native`: how the engine can be run (first is the usual one).
        public var modes: [String] = ["docker", "native"]
        public var defaultMode: String = "docker"
        /// The container image used in docker mode; nil for native-only engines.
        public var defaultImage: String? = nil
        /// The port the engine's HTTP API listens on inside its container.
        public var containerPort: Int? = nil
    }

    /// In file order.
    public let engines: [Engine]

    public init(engines: [Engine]) {
        self.engines = engines
    }

    public func engine(_ name: String) -> Engine? {
        engines.first { $0.name == name }
    }

    /// The catalog in `<directory>/engines.json`; the built-in table when the file is missing or invalid.
    public static func load(configDirectory: String) -> EngineCatalog {
        guard !configDirectory.isEmpty,
            let bytes = Files.read(configDirectory + "/engines.json", limit: 1 << 20),
            let catalog = try? parse(bytes)
        else { return builtIn }
        return catalog
    }

    public static func parse(_ bytes: [UInt8]) throws -> EngineCatalog {
        let document = try JSON(parsing: bytes)
        guard let table = document["engines"]?.objectValue else { throw CatalogError() }
        var engines: [Engine] = []
        for (name, value) in table {
            var engine = Engine(
                name: name, formats: value["formats"]?.arrayValue?.compactMap(\.stringValue) ?? [],
                unsupportedPlatforms: value["unsupported_platforms"]?.arrayValue?.compactMap(\.stringValue) ?? [])
            if let modes = value["modes"]?.arrayValue?.compactMap(\.stringValue), !modes.isEmpty {
                engine.modes = modes
            }
            engine.defaultMode = value["default_mode"]?.stringValue ?? engine.modes[0]
            engine.defaultImage = value["default_image"]?.stringValue
            if let port = value["container_port"]?.intValue, (1...65535).contains(port) { engine.containerPort = port }
            engines.append(engine)
        }
        return EngineCatalog(engines: engines)
    }

    struct CatalogError: Error {}

    /// The same data as the shipped `Config/engines.json`.
    public static let builtIn = EngineCatalog(engines: [
        Engine(
            name: "vllm", formats: ["safetensors", "pytorch"], unsupportedPlatforms: [],
            defaultImage: "vllm/vllm-openai:latest", containerPort: 8000),
        Engine(
            name: "llama_cpp", formats: ["gguf"], unsupportedPlatforms: [],
            defaultImage: "ghcr.io/ggml-org/llama.cpp:server", containerPort: 8080),
        Engine(
            name: "ollama", formats: ["gguf"], unsupportedPlatforms: [], defaultImage: "ollama/ollama:latest",
            containerPort: 11434),
        Engine(
            name: "exllamav2", formats: ["gptq", "exl2", "gguf"], unsupportedPlatforms: ["arm64", "aarch64"],
            modes: ["docker"], defaultImage: "ghcr.io/theroyallab/tabbyapi:latest", containerPort: 5000),
        Engine(
            name: "mlx", formats: ["mlx", "safetensors"], unsupportedPlatforms: [], modes: ["native"],
            defaultMode: "native", defaultImage: nil, containerPort: 8080),
    ])

    /// `GET /quicktest/engine-formats`: `{"<engine>": {"formats", "modes", "default_mode"}}`.
    public var formatsJSON: JSON {
        .object(
            JSONObject(
                engines.map { engine in
                    (
                        engine.name,
                        .object(
                            JSONObject([
                                ("formats", .array(engine.formats.map(JSON.string))),
                                ("modes", .array(engine.modes.map(JSON.string))),
                                ("default_mode", .string(engine.defaultMode)),
                            ]))
                    )
                }))
    }

    /// `GET /engines/registry`: `{"engines": [{name, supported_modes, default_mode, default_image, container_port}]}`.
    public var registryJSON: JSON {
        .object(
            JSONObject([
                (
                    "engines",
                    .array(
                        engines.map { engine in
                            .object(
                                JSONObject([
                                    ("name", .string(engine.name)),
                                    ("supported_modes", .array(engine.modes.map(JSON.string))),
                                    ("default_mode", .string(engine.defaultMode)),
                                    ("default_image", engine.defaultImage.map(JSON.string) ?? .null),
                                    ("container_port", engine.containerPort.map(JSON.int) ?? .null),
                                ]))
                        })
                )
            ]))
    }

    /// Why `engine` cannot run a model in `formats`; nil when it can (or the format/engine is unknown).
    public func formatProblem(engine name: String, formats: [String]) -> String? {
        guard !formats.isEmpty, let engine = engine(name) else { return nil }
        if formats.contains(where: engine.formats.contains) { return nil }
        return "engine '\(name)' does not support \(formats.joined(separator: "/")) models "
            + "(supported: \(engine.formats.joined(separator: ", "))); pass \"force\": true to run anyway"
    }

    /// Why `engine` cannot run on an agent with CPU architecture `cpuArch`; nil when it can.
    public func platformProblem(engine name: String, cpuArch: String) -> String? {
        guard let engine = engine(name) else { return "unknown engine '\(name)'" }
        let arch = cpuArch.lowercased()
        if !arch.isEmpty, engine.unsupportedPlatforms.contains(arch) {
            return "\(name) is not supported on \(cpuArch)"
        }
        return nil
    }
}

/// The format(s) of a model path: checked on disk when the path exists on this server,
/// otherwise guessed from its name. Empty when unknown.
public enum ModelFormat {
    public static func detect(_ path: String) -> [String] {
        switch FileSystem.kind(path) {
        case .file:
            return fromName(path)
        case .directory:
            var formats: [String] = []
            for name in FileSystem.list(path) {
                for format in fromName(name) where !formats.contains(format) { formats.append(format) }
            }
            return formats.sorted()
        case .missing:
            return fromName(path)
        }
    }

    /// `.gguf` → gguf, `.safetensors` → safetensors, `pytorch_model.bin` / `.pt` → pytorch.
    static func fromName(_ path: String) -> [String] {
        let name = (path.split(separator: "/").last.map(String.init) ?? path).lowercased()
        if name.hasSuffix(".gguf") { return ["gguf"] }
        if name.hasSuffix(".safetensors") { return ["safetensors"] }
        if name.hasSuffix(".pt") || (name.hasPrefix("pytorch_model") && name.hasSuffix(".bin")) {
            return ["pytorch"]
        }
        return []
    }
}

/// The few file-system questions quick tests ask.
enum FileSystem {
    enum Kind { case file, directory, missing }

    static func kind(_ path: String) -> Kind {
        var info = stat()
        guard !path.isEmpty, stat(path, &info) == 0 else { return .missing }
        if (info.st_mode & S_IFMT) == S_IFDIR { return .directory }
        return .file
    }

    static func list(_ directory: String) -> [String] {
        guard let dir = opendir(directory) else { return [] }
        defer { closedir(dir) }
        var names: [String] = []
        while let entry = readdir(dir) {
            let name = withUnsafePointer(to: entry.pointee.d_name) { pointer in
                pointer.withMemoryRebound(to: CChar.self, capacity: 256) { String(cString: $0) }
            }
            if name != "." && name != ".." { names.append(name) }
        }
        return names
    }
}
