import KittHTTP
import KittStore

/// Bounds on what agents send (SPEC §7.2): every string an agent can make the server keep
/// or publish has a byte limit, so no agent can grow resident memory without bound.
enum AgentLimits {
    /// Agent names and host names.
    static let maxNameBytes = 128
    /// Other register and heartbeat strings, and `error` texts in reports.
    static let maxTextBytes = 4 * 1024
    /// One quick test log line.
    static let maxLogLineBytes = 16 * 1024
    /// Ids in reports (`command_id`, `test_id`).
    static let maxIDBytes = 128
    /// `capabilities` entries in a registration.
    static let maxCapabilities = 64
    /// The heartbeat `status`: 1..32 of `[a-z_]`.
    static let maxStatusCharacters = 32
    /// Statuses only the server sets.

    /// 400 naming `field` when `value` is longer than `maxBytes` bytes of UTF-8.
    static func check(_ value: String?, _ field: String, maxBytes: Int) throws(HTTPError) {
        guard let value, value.utf8.count > maxBytes else { return }
        throw HTTPError.badRequest("'\(field)' is longer than \(maxBytes) bytes (\(value.utf8.count))")
    }

    /// An agent name (register, install.sh): 1..128 bytes, no control characters, and not 16
    /// lowercase hex characters — the shape of an id, which a name must never shadow.
    static func checkName(_ name: String, field: String = "name") throws(HTTPError) {
        guard !name.isEmpty else { throw HTTPError.badRequest("'\(field)' must not be empty") }
        try check(name, field, maxBytes: maxNameBytes)
        guard !name.unicodeScalars.contains(where: { $0.value < 0x20 || $0.value == 0x7F }) else {
            throw HTTPError.badRequest("'\(field)' must not contain control characters")
        }
        guard !StoreID.isValid(name) else {
            throw HTTPError.badRequest("'\(field)' must not be 16 lowercase hex characters (that is the form of an agent id)")
        }
    }

    /// The heartbeat `status`: `[a-z_]{1,32}`, never a status the server keeps for itself.
    static func checkStatus(_ status: String) throws(HTTPError) {
        guard !status.isEmpty, status.utf8.count <= maxStatusCharacters,
            status.utf8.allSatisfy({ (0x61...0x7A).contains($0) || $0 == UInt8(ascii: "_") })
        else {
            throw HTTPError.badRequest("'status' must be 1 to \(maxStatusCharacters) characters of a-z and _")
        }
        guard !AgentStatus(rawValue: status).isServerOnly else {
            throw HTTPError.badRequest("'status' '\(status)' is set by the server only")
        }
    }
}
