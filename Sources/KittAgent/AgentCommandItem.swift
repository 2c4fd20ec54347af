import KittJSON

/// A command handed out by a heartbeat: `{"command_id", "test_id", "type", "payload"}`.
public struct AgentCommandItem: Sendable, Equatable {
    public var id: String
    public var testID: String?
    public var type: String
    public var payload: JSONObject

    public init(id: String, testID: String?, type: String, payload: JSONObject) {
        self.id = id
        self.testID = testID
        self.type = type
        self.payload = payload
    }

    /// nil when the element is not a usable command (no `command_id`).
    public init?(json: JSON) {
        guard let object = json.objectValue, let id = object["command_id"]?.stringValue, !id.isEmpty else {
            return nil
        }
        self.id = id
        let payload = object["payload"]?.objectValue ?? JSONObject()
        testID = object["test_id"]?.stringValue ?? payload["test_id"]?.stringValue
        type = object["type"]?.stringValue ?? ""
        self.payload = payload
    }

    func string(_ key: String) -> String? {
        guard let value = payload[key]?.stringValue, !value.isEmpty else { return nil }
        return value
    }
}

/// The command types and benchmarks this agent knows.
public enum AgentCommandType {
    public static let runTest = "run_test"
    public static let cleanupStorage = "cleanup_storage"
    public static let benchmarks = ["throughput", "latency"]
}

/// Percent-encodes one path segment (ids from the server are hex, but never trust that).
func pathSegment(_ text: String) -> String {
    var out = ""
    for byte in text.utf8 {
        switch byte {
        case UInt8(ascii: "a")...UInt8(ascii: "z"), UInt8(ascii: "A")...UInt8(ascii: "Z"),
            UInt8(ascii: "0")...UInt8(ascii: "9"), UInt8(ascii: "-"), UInt8(ascii: "_"), UInt8(ascii: "."),
            UInt8(ascii: "~"):
            out.unicodeScalars.append(Unicode.Scalar(byte))
        default:
            let hex = String(byte, radix: 16, uppercase: true)
            out += "%" + (hex.count == 1 ? "0" + hex : hex)
        }
    }
    return out
}
