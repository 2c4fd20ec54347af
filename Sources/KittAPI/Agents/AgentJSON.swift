import KittJSON
import KittStore

extension Agent {
    /// The API representation (SPEC §5 Agents); `engines` only when the agent carries them.
    var json: JSON {
        func number(_ value: Double?) -> JSON { value.map { .double($0) } ?? .null }
        var object = JSONObject([
            ("id", .string(id)), ("name", .string(name)), ("hostname", .string(hostname)), ("port", .int(port)),
            ("gpu_info", .string(gpuInfo)), ("gpu_count", .int(gpuCount)), ("cpu_info", .string(cpuInfo)),
            ("cpu_arch", .string(cpuArch)), ("ram_gb", number(ramGB)), ("environment_type", .string(environmentType)),
            ("fingerprint", .string(fingerprint)), ("kitt_version", .string(kittVersion)),
            ("capabilities", .array(capabilities)), ("hardware_details", .string(hardwareDetails)),
            ("status", .string(status.rawValue)), ("current_task", .string(currentTask)),
            ("gpu_utilization_pct", number(gpuUtilizationPct)), ("gpu_memory_used_gb", number(gpuMemoryUsedGB)),
            ("storage_gb_free", number(storageGBFree)), ("uptime_s", number(uptimeS)), ("notes", .string(notes)),
            ("tags", .array(tags)), ("registered_at", .string(registeredAt)),
            ("last_heartbeat", lastHeartbeat.map { .string($0) } ?? .null), ("updated_at", .string(updatedAt)),
        ])
        if let engines { object["engines"] = .array(engines.map(\.json)) }
        return .object(object)
    }
}

extension ReportedEngine {
    /// `{"engine", "installed", "running", "version", "binary_path", "updated_at"}`.
    var json: JSON {
        .object(
            JSONObject([
                ("engine", .string(engine.engine)), ("installed", .bool(engine.installed)),
                ("running", .bool(engine.running)), ("version", .string(engine.version)),
                ("binary_path", .string(engine.binaryPath)), ("updated_at", .string(updatedAt)),
            ]))
    }
}

extension HandedOutCommand {
    /// `{"command_id", "test_id", "type", "payload"}`.
    var json: JSON {
        .object(
            JSONObject([
                ("command_id", .string(id)), ("test_id", testID.map { .string($0) } ?? .null),
                ("type", .string(type)), ("payload", payload),
            ]))
    }
}

extension AgentSettings {
    /// `{"<key>": "<value>", ...}` in the order given (the defaults' order).
    static func json(_ settings: [(key: String, value: String)]) -> JSON {
        .object(JSONObject(settings.map { ($0.key, JSON.string($0.value)) }))
    }
}
