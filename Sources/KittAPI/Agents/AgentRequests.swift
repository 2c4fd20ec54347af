import KittHTTP
import KittJSON
import KittStore

/// Validation of agent request bodies: every problem is a 400 naming the field.
enum AgentRequests {
    static func registration(_ body: JSONObject) throws(HTTPError) -> AgentRegistration {
        let name = try body.requiredString("name")
        guard name.utf8.count <= 255 else { throw HTTPError.badRequest("'name' is longer than 255 bytes") }
        var r = AgentRegistration(name: name, hostname: try body.requiredString("hostname"))
        if let port = try body.optionalInt("port") {
            guard (1...65535).contains(port) else { throw HTTPError.badRequest("'port' must be in 1..65535") }
            r.port = port
        }
        r.gpuInfo = try body.optionalString("gpu_info") ?? ""
        r.gpuCount = try body.optionalInt("gpu_count") ?? 0
        r.cpuInfo = try body.optionalString("cpu_info") ?? ""
        r.cpuArch = try body.optionalString("cpu_arch") ?? ""
        r.ramGB = try body.optionalDouble("ram_gb") ?? 0
        r.environmentType = try body.optionalString("environment_type") ?? ""
        r.fingerprint = try body.optionalString("fingerprint") ?? ""
        r.kittVersion = try body.optionalString("kitt_version") ?? ""
        r.capabilities = try body.optionalStringArray("capabilities") ?? []
        r.hardwareDetails = try body.optionalString("hardware_details") ?? ""
        return r
    }

    static func heartbeat(_ body: JSONObject) throws(HTTPError) -> AgentHeartbeat {
        var beat = AgentHeartbeat()
        if let status = try body.optionalString("status") {
            guard !status.isEmpty else { throw HTTPError.badRequest("'status' must not be empty") }
            beat.status = status
        }
        beat.currentTask = try body.optionalString("current_task")
        beat.gpuUtilizationPct = try body.optionalDouble("gpu_utilization_pct")
        beat.gpuMemoryUsedGB = try body.optionalDouble("gpu_memory_used_gb")
        beat.storageGBFree = try body.optionalDouble("storage_gb_free")
        beat.uptimeS = try body.optionalDouble("uptime_s")
        if let engines = body["engines"], !engines.isNull {
            guard let array = engines.arrayValue else {
                throw HTTPError.badRequest("'engines' must be an array, got \(engines.typeName)")
            }
            for (index, element) in array.enumerated() {
                guard let engine = element.objectValue else {
                    throw HTTPError.badRequest("'engines[\(index)]' must be an object, got \(element.typeName)")
                }
                do {
                    beat.engines.append(
                        AgentEngine(
                            engine: try engine.requiredString("engine"),
                            installed: try engine.optionalBool("installed") ?? false,
                            running: try engine.optionalBool("running") ?? false,
                            version: try engine.optionalString("version") ?? "",
                            binaryPath: try engine.optionalString("binary_path") ?? ""))
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
    }

    static let finishedStatuses: Set<String> = ["completed", "complete", "done", "success", "succeeded", "failed", "error", "cancelled"]

    /// `{"command_id", "test_id"?, "status", "container_id", "error", "result_data"?}`.
    static func report(_ request: HTTPRequest) throws(HTTPError) -> Report {
        let body = try request.jsonObject()
        let commandID = try body.optionalString("command_id")
        let testID = try body.optionalString("test_id")
        let status = try body.optionalString("status")
        _ = try body.optionalString("container_id")
        _ = try body.optionalString("error")
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
            finished: status.map { finishedStatuses.contains($0.lowercased()) } ?? false)
    }
}
