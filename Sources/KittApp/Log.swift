#if canImport(Glibc)
import Glibc
#endif
import Dispatch
import KittJSON
import KittNet
import Synchronization

/// Line-oriented log to stdout. Lines are buffered and written in batches (every 100 ms or
/// 32 KiB), so the access log costs no syscall per request.
///
/// Three kinds of line (SPEC §7.3): messages (the banner: always written), access lines (one
/// per request; `--quiet` turns only these off) and lifecycle lines (agents, quick tests,
/// campaigns changing state). `--log-format json` writes every line as one JSON object.
public final class Log: Sendable {
    public enum Format: String, Sendable {
        case text, json
    }

    private let buffer = Mutex<[UInt8]>([])
    // DispatchSource is thread-safe; the Dispatch overlay does not declare it Sendable.
    nonisolated(unsafe) private let timer: any DispatchSourceTimer
    private let enabled: Bool
    public let accessEnabled: Bool
    public let format: Format

    /// `enabled: false` silences everything (tests); `access: false` only the access log (`--quiet`).
    public init(enabled: Bool = true, access: Bool = true, format: Format = .text) {
        self.enabled = enabled
        self.accessEnabled = enabled && access
        self.format = format
        timer = DispatchSource.makeTimerSource(queue: DispatchQueue(label: "kitt.log"))
        timer.schedule(deadline: .now() + .milliseconds(100), repeating: .milliseconds(100))
        timer.setEventHandler { [weak self] in self?.flush() }
        timer.resume()
    }

    deinit { timer.cancel() }

    /// A message (banner, notices): `text` as is, or `{"time","level":"info","msg"}`.
    public func line(_ text: String) {
        switch format {
        case .text: write(text)
        case .json:
            write(JSON.object(JSONObject([("time", .string(Timestamp.now())), ("level", "info"), ("msg", .string(text))])).jsonString)
        }
    }

    /// One access line: ISO 8601 time, client, method, target with its query, status, bytes,
    /// duration, user agent, request id (and the route pattern in JSON).
    public func access(_ record: AccessRecord) {
        guard accessEnabled else { return }
        let time = Log.timestamp(record.loggedAt)
        let milliseconds = (record.durationSeconds * 1_000_000).rounded() / 1000
        switch format {
        case .text:
            let agent = record.userAgent.map { "\"\(Log.escapeQuoted($0))\"" } ?? "-"
            write(
                "\(time) \(record.peer) \(record.method) \(Log.escapeQuoted(record.target)) \(record.status) "
                    + "\(record.bytes) \(milliseconds)ms \(agent) id=\(record.requestID.isEmpty ? "-" : record.requestID)")
        case .json:
            let object = JSONObject([
                ("time", .string(time)), ("level", "info"), ("type", "access"), ("remote", .string(record.peer)),
                ("method", .string(record.method)), ("target", .string(record.target)), ("route", .string(record.route)),
                ("status", .int(record.status)), ("bytes", .int(record.bytes)), ("duration_ms", .double(milliseconds)),
                ("user_agent", record.userAgent.map(JSON.string) ?? .null), ("request_id", .string(record.requestID)),
            ])
            write(JSON.object(object).jsonString)
        }
    }

    /// A state change: `what` in words for text, `fields` as JSON (`{"type":"event","event":...}`).
    public func lifecycle(_ event: String, _ what: String, fields: JSONObject) {
        switch format {
        case .text: write("\(Timestamp.now()) \(what)")
        case .json:
            var object = JSONObject([("time", .string(Timestamp.now())), ("level", "info"), ("type", "event"), ("event", .string(event))])
            for (key, value) in fields { object[key] = value }
            write(JSON.object(object).jsonString)
        }
    }

    private func write(_ text: String) {
        guard enabled else { return }
        let full = buffer.withLock { buffer -> Bool in
            buffer.append(contentsOf: text.utf8)
            buffer.append(0x0A)
            return buffer.count > 32 * 1024
        }
        if full { flush() }
    }

    public func flush() {
        let pending = buffer.withLock { buffer -> [UInt8] in
            defer { buffer.removeAll(keepingCapacity: true) }
            return buffer
        }
        var offset = 0
        while offset < pending.count {
            let written = pending[offset...].withUnsafeBytes { Glibc.write(1, $0.baseAddress, $0.count) }
            if written <= 0 { break }
            offset += written
        }
    }

    static func timestamp(_ seconds: Double) -> String {
        guard seconds.isFinite, seconds >= 0, seconds < 1e11 else { return Timestamp.now() }
        let whole = seconds.rounded(.down)
        return Timestamp.format(seconds: Int(whole), microseconds: min(999_999, Int((seconds - whole) * 1_000_000)))
    }

    /// A client-sent string inside a text log line: quotes, backslashes and control bytes
    /// escaped, so no client can forge a line or break a parser.
    static func escapeQuoted(_ text: String) -> String {
        var out = ""
        for scalar in text.unicodeScalars {
            switch scalar {
            case "\"": out += "\\\""
            case "\\": out += "\\\\"
            case _ where scalar.value < 0x20 || scalar.value == 0x7F:
                out += "\\x" + (scalar.value < 0x10 ? "0" : "") + String(scalar.value, radix: 16)
            default: out.unicodeScalars.append(scalar)
            }
        }
        return out
    }
}

/// Warnings and errors go to stderr immediately.
public func printError(_ text: String) {
    var line = Array(text.utf8)
    line.append(0x0A)
    _ = line.withUnsafeBytes { write(2, $0.baseAddress, $0.count) }
}
