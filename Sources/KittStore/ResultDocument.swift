import KittJSON

/// A KITT `metrics.json` document, checked and taken apart for the indexed columns, while
/// `bytes` stays exactly as sent (it is what the API serves back).
///
/// Only `model` and `engine` are required (strings). Other fields are read leniently: a
/// missing or wrongly typed field gives its column's default, so old KITT files still import.
public struct ResultDocument: Sendable {
    public struct Benchmark: Sendable {
        public var testName: String
        public var testVersion: String
        public var runNumber: Int
        public var passed: Bool
        /// Numeric metrics only (booleans and strings are not metrics), in document order.
        public var metrics: [(name: String, value: Double)]
    }

    public struct Hardware: Sendable {
        public var gpuModel: String?
        public var gpuVRAMGB: Double?
        public var gpuCount: Int?
        public var cpuModel: String?
        public var cpuCores: Int?
        public var ramGB: Double?
        public var environmentType: String?
        public var fingerprint: String?
    }

    /// The document as sent; starts (after optional whitespace) with `{`.
    public let bytes: [UInt8]
    public var model: String
    public var engine: String
    public var suiteName: String
    /// The document's `timestamp`, or the time of storing when it has none (for ordering).
    public var timestamp: String
    public var passed: Bool
    public var totalBenchmarks: Int
    public var passedCount: Int
    public var failedCount: Int
    public var totalTimeSeconds: Double
    public var kittVersion: String
    public var benchmarks: [Benchmark]
    public var hardware: Hardware?

    public struct Invalid: Error, Sendable, CustomStringConvertible {
        public let message: String
        public var description: String { message }
    }

    /// Parses and checks `bytes`.
    public init(bytes: [UInt8]) throws(Invalid) {
        let json: JSON
        do {
            json = try JSON(parsing: bytes, uniqueKeys: true)
        } catch {
            throw Invalid(message: "malformed JSON: \(error.description)")
        }
        try self.init(bytes: bytes, parsed: json)
    }

    /// `parsed` must be the parse of `bytes` with unique keys (callers that already parsed
    /// them save a pass).
    public init(bytes: [UInt8], parsed: JSON) throws(Invalid) {
        guard case .object(let object) = parsed else {
            throw Invalid(message: "a result must be a JSON object, got \(parsed.typeName)")
        }
        // The API serves each result with kitt's `"id"` in front of the stored bytes.
        guard object["id"] == nil else {
            throw Invalid(message: "'id' must not be given: kitt assigns a result's id")
        }
        func requiredString(_ key: String) throws(Invalid) -> String {
            guard let value = object[key], !value.isNull else { throw Invalid(message: "'\(key)' is required") }
            guard let string = value.stringValue else {
                throw Invalid(message: "'\(key)' must be a string, got \(value.typeName)")
            }
            return string
        }
        self.bytes = bytes
        model = try requiredString("model")
        engine = try requiredString("engine")
        suiteName = object["suite_name"]?.stringValue ?? ""
        timestamp = object["timestamp"]?.stringValue ?? Timestamp.now()
        passed = object["passed"]?.boolValue ?? false
        totalBenchmarks = ResultDocument.int(object["total_benchmarks"]) ?? 0
        passedCount = ResultDocument.int(object["passed_count"]) ?? 0
        failedCount = ResultDocument.int(object["failed_count"]) ?? 0
        totalTimeSeconds = ResultDocument.number(object["total_time_seconds"]) ?? 0
        kittVersion = object["kitt_version"]?.stringValue ?? ""

        benchmarks = []
        for entry in object["results"]?.arrayValue ?? [] {
            guard let result = entry.objectValue else { continue }
            var metrics: [(name: String, value: Double)] = []
            for (name, value) in result["metrics"]?.objectValue ?? JSONObject() {
                if let number = ResultDocument.number(value) { metrics.append((name, number)) }
            }
            let version: String
            switch result["test_version"] {
            case .string(let text)?: version = text
            case .int(let number)?: version = String(number)
            case .double(let number)?: version = JSON.double(number).jsonString
            default: version = ""
            }
            benchmarks.append(
                Benchmark(
                    testName: result["test_name"]?.stringValue ?? "", testVersion: version,
                    runNumber: ResultDocument.int(result["run_number"]) ?? 0,
                    passed: result["passed"]?.boolValue ?? false, metrics: metrics))
        }

        if let info = object["system_info"]?.objectValue {
            let gpu = info["gpu"]?.objectValue
            let cpu = info["cpu"]?.objectValue
            hardware = Hardware(
                gpuModel: gpu?["model"]?.stringValue, gpuVRAMGB: ResultDocument.number(gpu?["vram_gb"]),
                gpuCount: ResultDocument.int(gpu?["count"]), cpuModel: cpu?["model"]?.stringValue,
                cpuCores: ResultDocument.int(cpu?["cores"]), ramGB: ResultDocument.number(info["ram_gb"]),
                environmentType: info["environment_type"]?.stringValue,
                fingerprint: info["fingerprint"]?.stringValue)
        }
    }

    /// A JSON number (not a boolean) as a Double.
    static func number(_ value: JSON?) -> Double? {
        switch value {
        case .int(let number)?: Double(number)
        case .double(let number)?: number.isFinite ? number : nil
        case .raw?: value?.doubleValue
        default: nil
        }
    }

    static func int(_ value: JSON?) -> Int? {
        switch value {
        case .int(let number)?: number
        case .double(let number)?: Int(exactly: number)
        default: nil
        }
    }
}
