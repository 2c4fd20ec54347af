import KittHTTP
import KittJSON
import KittStore

/// Validation of agent request bodies: every problem is a 400 naming the field.
enum AgentRequests {
    static func registration(_ body: JSONObject) throws(HTTPError) -> AgentRegistration {
        let name = try body.requiredString("name")
        try AgentLimits.checkName(name)
        let hostname = try body.requiredString("hostname")
        try AgentLimits.check(hostname, "hostname", maxBytes: AgentLimits.maxNameBytes)
        var r = AgentRegistration(name: name, hostname: hostname)
        if let port = try body.optionalInt("port") {
            guard (1...65535).contains(port) else { throw HTTPError.badRequest("'port' must be in 1..65535") }
            r.port = port
        }
        r.gpuInfo = try text(body, "gpu_info")
        if let count = try body.optionalInt("gpu_count") {
            guard (0...1_000_000).contains(count) else { throw HTTPError.badRequest("'gpu_count' must be in 0..1000000") }
            r.gpuCount = count
        }
        r.cpuInfo = try text(body, "cpu_info")
        r.cpuArch = try text(body, "cpu_arch")
        r.ramGB = try body.optionalDouble("ram_gb") ?? 0
        r.environmentType = try text(body, "environment_type")
        r.fingerprint = try text(body, "fingerprint")
        r.kittVersion = try text(body, "kitt_version")
        let capabilities = try body.optionalStringArray("capabilities") ?? []
        guard capabilities.count <= AgentLimits.maxCapabilities else {
            throw HTTPError.badRequest("'capabilities' has more than \(AgentLimits.maxCapabilities) entries")
        }
        for (index, capability) in capabilities.enumerated() {
            try AgentLimits.check(capability, "capabilities[\(index)]", maxBytes: AgentLimits.maxNameBytes)
        }
        r.capabilities = capabilities
        r.hardwareDetails = try text(body, "hardware_details")
        return r
    }

    /// An optional string of at most 4 KiB ("" when absent).
    private static func text(_ body: JSONObject, _ key: String) throws(HTTPError) -> String {
        let value = try body.optionalString(key) ?? ""
        try AgentLimits.check(value, key, maxBytes: AgentLimits.maxTextBytes)
        return value
    }

    static func heartbeat(_ body: JSONObject) throws(HTTPError) -> AgentHeartbeat {
        var beat = AgentHeartbeat()
        if let status = try body.optionalString("status") {
            try AgentLimits.checkStatus(status)
            beat.status = AgentStatus(rawValue: status)
        }
        beat.currentTask = try body.optionalString("current_task")
        try AgentLimits.check(beat.currentTask, "current_task", maxBytes: AgentLimits.maxTextBytes)
        beat.gpuUtilizationPct = try body.optionalDouble("gpu_utilization_pct")
        beat.gpuMemoryUsedGB = try body.optionalDouble("gpu_memory_used_gb")
        beat.storageGBFree = try body.optionalDouble("storage_gb_free")
        beat.uptimeS = try body.optionalDouble("uptime_s")
        if let engines = body["engines"], !engines.isNull {
            guard let array = engines.arrayValue else {
                throw HTTPError.badRequest("'engines' must be an array, got \(engines.typeName)")
            }
            guard array.count <= AgentHeartbeat.maxEngines else {
                throw HTTPError.badRequest("'engines' has more than \(AgentHeartbeat.maxEngines) entries")
            }
            for (index, element) in array.enumerated() {
                guard let engine = element.objectValue else {
                    throw HTTPError.badRequest("'engines[\(index)]' must be an object, got \(element.typeName)")
                }
                do {
                    let name = try engine.requiredString("engine")
                    try AgentLimits.check(name, "engine", maxBytes: AgentLimits.maxNameBytes)
                    let version = try engine.optionalString("version") ?? ""
                    try AgentLimits.check(version, "version", maxBytes: AgentLimits.maxTextBytes)
                    let binaryPath = try engine.optionalString("binary_path") ?? ""
                    try AgentLimits.check(binaryPath, "binary_path", maxBytes: AgentLimits.maxTextBytes)
                    beat.engines.append(
                        AgentEngine(
                            engine: name,
                            installed: try engine.optionalBool("installed") ?? false,
                            running: try engine.optionalBool("running") ?? false,
                            version: version, binaryPath: binaryPath))
                } catch {
                    throw HTTPError.badRequest("engines[\(index)]: \(error.message)")
                }
            }
        }
        return beat
    }

    /// Settings PUT: known keys only (others ignored), values as strings.
    static func settings(_ body: JSONObject) throws(HTTPError) -> [(key: String, value: String)] {
        var values: [(key: String, value: String)] = []
        for (key, value) in body where AgentSettings.isKnown(key) {
            let text: String
            switch value {
            case .string(let string): text = string
            case .bool(let bool): text = bool ? "true" : "false"
            case .int(let int): text = String(int)
            case .double(let double):
                if let int = Int(exactly: double) { text = String(int) } else { text = JSON.double(double).jsonString }
            default:
                throw HTTPError.badRequest("'\(key)' must be a string, number or boolean, got \(value.typeName)")
            }
            if key == "heartbeat_interval_s" {
                guard let seconds = Int(text), (10...300).contains(seconds) else {
                    throw HTTPError.badRequest("'heartbeat_interval_s' must be an integer from 10 to 300")
                }
                values.append((key, String(seconds)))
            } else {
                values.append((key, text))
            }
        }
        guard !values.isEmpty else {
            throw HTTPError.badRequest(
                "no known setting given (known: \(AgentSettings.defaults.map(\.key).joined(separator: ", ")))")
        }
        return values
    }

    struct Report: Sendable {
        var commandID: String?
        var testID: String?
        var document: ResultDocument?
        /// The status says the command is over (its row is marked done).
        var finished: Bool
        /// The quick-test status the report implies (running, completed, failed), if any.
        var testStatus: QuickTestStatus? = nil
        var error: String? = nil
    }

    /// KITT agents say "success", "done", "error", ...: map them onto quick-test statuses.
    static func testStatus(for status: String?) -> QuickTestStatus? {
        switch status?.lowercased() {
        case "running", "started": return .running
        case "completed", "complete", "done", "success", "succeeded": return .completed
        case "failed", "error": return .failed
        default: return nil
        }
    }

    static let finishedStatuses: Set<String> = ["completed", "complete", "done", "success", "succeeded", "failed", "error", "cancelled"]

    /// `{"command_id", "test_id"?, "status", "container_id", "error", "result_data"?}`.
    static func report(_ request: HTTPRequest) throws(HTTPError) -> Report {
        let body = try request.jsonObject()
        let commandID = try body.optionalString("command_id")
        try AgentLimits.check(commandID, "command_id", maxBytes: AgentLimits.maxIDBytes)
        let testID = try body.optionalString("test_id")
        try AgentLimits.check(testID, "test_id", maxBytes: AgentLimits.maxIDBytes)
        let status = try body.optionalString("status")
        try AgentLimits.check(status, "status", maxBytes: AgentLimits.maxNameBytes)
        _ = try body.optionalString("container_id")
        let error = try body.optionalString("error")
        try AgentLimits.check(error, "error", maxBytes: AgentLimits.maxTextBytes)
        var document: ResultDocument?
        if let data = body["result_data"], !data.isNull {
            guard let object = data.objectValue else {
                throw HTTPError.badRequest("'result_data' must be an object, got \(data.typeName)")
            }
            for key in ["model", "engine"] {
                guard let value = object[key], !value.isNull else { throw HTTPError.badRequest("'result_data.\(key)' is required") }
                guard value.stringValue != nil else {
                    throw HTTPError.badRequest("'result_data.\(key)' must be a string, got \(value.typeName)")
                }
            }
            // Keep the document's bytes exactly as the agent sent them.
            let bytes = JSONSlice.valueRange(of: "result_data", in: request.body).map { Array(request.body[$0]) }
                ?? data.serialized()
            do {
                document = try ResultDocument(bytes: bytes, parsed: data)
            } catch {
                throw HTTPError.badRequest("'result_data': \(error.message)")
            }
        }
        return Report(
            commandID: commandID, testID: testID, document: document,
            finished: status.map { finishedStatuses.contains($0.lowercased()) } ?? false,
            testStatus: testStatus(for: status), error: error)
    }
}
