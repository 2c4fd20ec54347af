import KittBase
import KittJSON

#if canImport(Glibc)
    import Glibc
#endif

/// One GPU as nvidia-smi reports it.
public struct GPUInfo: Sendable, Equatable {
    public let name: String
    public let memoryMiB: Int

    public init(name: String, memoryMiB: Int) {
        self.name = name
        self.memoryMiB = memoryMiB
    }
}

/// What the agent tells the server about its machine, read from /proc, uname and nvidia-smi.
public struct MachineFacts: Sendable, Equatable {
    public var hostname: String
    public var cpuModel: String
    public var cpuArch: String
    public var cores: Int
    public var ramGB: Double
    public var gpus: [GPUInfo]
    public var environmentType: String

    public init(
        hostname: String, cpuModel: String, cpuArch: String, cores: Int, ramGB: Double, gpus: [GPUInfo],
        environmentType: String
    ) {
        self.hostname = hostname
        self.cpuModel = cpuModel
        self.cpuArch = cpuArch
        self.cores = cores
        self.ramGB = ramGB
        self.gpus = gpus
        self.environmentType = environmentType
    }

    /// Reads this machine's facts. nvidia-smi is asked only when it is on PATH, for at most 10 s.
    public static func gather(nvidiaSMITimeout: Double = 10) -> MachineFacts {
        let cpuinfo = procText("/proc/cpuinfo") ?? ""
        let meminfo = procText("/proc/meminfo") ?? ""
        var cores = Int(sysconf(Int32(_SC_NPROCESSORS_ONLN)))
        if cores <= 0 { cores = max(1, countProcessors(cpuinfo: cpuinfo)) }
        let memKB = parseMemTotalKB(meminfo: meminfo) ?? 0
        let gpus =
            Subprocess.run(
                ["nvidia-smi", "--query-gpu=name,memory.total", "--format=csv,noheader,nounits"],
                timeout: nvidiaSMITimeout
            ).flatMap { $0.status == 0 ? parseNvidiaSMI($0.output) : nil } ?? []
        let isContainer = access("/.dockerenv", F_OK) == 0 || access("/run/.containerenv", F_OK) == 0
        return MachineFacts(
            hostname: currentHostname(), cpuModel: parseCPUModel(cpuinfo: cpuinfo) ?? "unknown",
            cpuArch: machineArchitecture(), cores: cores, ramGB: roundedGB(kibibytes: memKB), gpus: gpus,
            environmentType: isContainer ? "container" : "native_linux")
    }

    /// `model name : ...` (x86), else `Model`/`Hardware`/`cpu model` lines (ARM, others).
    public static func parseCPUModel(cpuinfo: String) -> String? {
        var fallback: String?
        for line in cpuinfo.split(separator: "\n") {
            guard let colon = line.firstIndex(of: ":") else { continue }
            let key = AgentConfiguration.trim(line[..<colon]).lowercased()
            let value = AgentConfiguration.trim(line[line.index(after: colon)...])
            guard !value.isEmpty else { continue }
            if key == "model name" { return value }
            if fallback == nil, ["model", "hardware", "cpu model", "cpu"].contains(key) { fallback = value }
        }
        return fallback
    }

    /// The number of `processor : N` entries.
    public static func countProcessors(cpuinfo: String) -> Int {
        cpuinfo.split(separator: "\n").filter { line in
            guard let colon = line.firstIndex(of: ":") else { return false }
            return AgentConfiguration.trim(line[..<colon]) == "processor"
        }.count
    }

    /// `MemTotal:  65843212 kB` → 65843212.
    public static func parseMemTotalKB(meminfo: String) -> Int? {
        for line in meminfo.split(separator: "\n") where line.hasPrefix("MemTotal:") {
            let fields = line.dropFirst("MemTotal:".count).split(separator: " ")
            return fields.first.flatMap { Int($0) }
        }
        return nil
    }

    /// `NVIDIA A100-SXM4-80GB, 81920` lines. Malformed lines are skipped.
    public static func parseNvidiaSMI(_ output: String) -> [GPUInfo] {
        output.split(separator: "\n").compactMap { line in
            guard let comma = line.lastIndex(of: ",") else { return nil }
            let name = AgentConfiguration.trim(line[..<comma])
            let memory = AgentConfiguration.trim(line[line.index(after: comma)...])
            guard !name.isEmpty else { return nil }
            return GPUInfo(name: name, memoryMiB: Int(memory) ?? 0)
        }
    }

    /// GiB with one decimal.
    static func roundedGB(kibibytes: Int) -> Double {
        (Double(kibibytes) / (1024 * 1024) * 10).rounded() / 10
    }

    /// The GPU summary KITT shows: the first GPU's name (the usual machine has one kind).
    public var gpuSummary: String {
        guard let first = gpus.first else { return "none" }
        let kinds = Set(gpus.map(\.name))
        return kinds.count == 1 ? first.name : gpus.map(\.name).joined(separator: ", ")
    }

    public var gpuVRAMGB: Double {
        guard let first = gpus.first else { return 0 }
        return (Double(first.memoryMiB) / 1024 * 10).rounded() / 10
    }

    /// A stable identity for the hardware (FNV-1a over the facts that do not change).
    public var fingerprint: String {
        var hash: UInt64 = 0xcbf2_9ce4_8422_2325
        let text =
            [hostname, cpuModel, cpuArch, String(cores), String(Int(ramGB.rounded()))]
            + gpus.map { "\($0.name)/\($0.memoryMiB)" }
        for byte in text.joined(separator: "|").utf8 {
            hash ^= UInt64(byte)
            hash = hash &* 0x0000_0100_0000_01b3
        }
        let hex = String(hash, radix: 16)
        return String(repeating: "0", count: 16 - hex.count) + hex
    }

    /// The register body (SPEC agents/register).
    public func registration(name: String, port: Int, version: String) -> JSON {
        var details = "CPU: \(cpuModel) (\(cores) cores, \(cpuArch)); RAM: \(ramGB) GB"
        for (index, gpu) in gpus.enumerated() { details += "; GPU \(index): \(gpu.name) (\(gpu.memoryMiB) MiB)" }
        return .object(
            JSONObject([
                ("name", .string(name)), ("hostname", .string(hostname)), ("port", .int(port)),
                ("gpu_info", .string(gpuSummary)), ("gpu_count", .int(gpus.count)),
                ("cpu_info", .string(cpuModel)), ("cpu_arch", .string(cpuArch)), ("ram_gb", .double(ramGB)),
                ("environment_type", .string(environmentType)), ("fingerprint", .string(fingerprint)),
                ("kitt_version", .string(version)),
                ("capabilities", .array(AgentCommandType.benchmarks.map { .string($0) } + ["cleanup_storage"])),
                ("hardware_details", .string(details)),
            ]))
    }

    /// `system_info` of a result document (SPEC Results).
    public var systemInfo: JSON {
        .object(
            JSONObject([
                (
                    "gpu",
                    .object(
                        JSONObject([
                            ("model", .string(gpuSummary)), ("vram_gb", .double(gpuVRAMGB)),
                            ("count", .int(gpus.count)),
                        ]))
                ),
                ("cpu", .object(JSONObject([("model", .string(cpuModel)), ("cores", .int(cores))]))),
                ("ram_gb", .double(ramGB)), ("environment_type", .string(environmentType)),
                ("fingerprint", .string(fingerprint)),
            ]))
    }

    static func currentHostname() -> String {
        var buffer = [CChar](repeating: 0, count: 256)
        guard gethostname(&buffer, buffer.count - 1) == 0 else { return "localhost" }
        return String(decoding: buffer.prefix { $0 != 0 }.map { UInt8(bitPattern: $0) }, as: UTF8.self)
    }

    static func machineArchitecture() -> String {
        var names = utsname()
        guard uname(&names) == 0 else { return "unknown" }
        return withUnsafeBytes(of: &names.machine) { raw in
            String(decoding: raw.prefix { $0 != 0 }, as: UTF8.self)
        }
    }

    /// A procfs file's text (procfs files report size 0, so read until EOF, at most 4 MiB).
    static func procText(_ path: String) -> String? {
        Files.readPrefix(path, maxBytes: 4 << 20).map { String(decoding: $0, as: UTF8.self) }
    }
}
