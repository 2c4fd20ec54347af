#if canImport(Glibc)
import Glibc
#endif

// JSON has no date type: kitt's documents carry timestamps as ISO 8601 UTC text. The server's
// store and the agent share this one implementation.

/// ISO 8601 UTC timestamps with microseconds (`2026-11-30T04:12:55.123456Z`), which sort as text.
public enum Timestamp {
    public static func now() -> String {
        var spec = timespec()
        clock_gettime(CLOCK_REALTIME, &spec)
        return format(seconds: Int(spec.tv_sec), microseconds: Int(spec.tv_nsec / 1000))
    }

    public static func format(seconds: Int, microseconds: Int = 0) -> String {
        var time = time_t(seconds)
        var parts = tm()
        gmtime_r(&time, &parts)
        func pad(_ value: Int, _ width: Int) -> String {
            let text = String(value)
            return String(repeating: "0", count: max(0, width - text.count)) + text
        }
        return "\(pad(Int(parts.tm_year) + 1900, 4))-\(pad(Int(parts.tm_mon) + 1, 2))-\(pad(Int(parts.tm_mday), 2))T"
            + "\(pad(Int(parts.tm_hour), 2)):\(pad(Int(parts.tm_min), 2)):\(pad(Int(parts.tm_sec), 2))."
            + "\(pad(microseconds, 6))Z"
    }

    /// Seconds since the epoch for a timestamp this module wrote (or any `YYYY-MM-DDTHH:MM:SS...Z`).
    public static func epochSeconds(_ text: String) -> Double? {
        let bytes = Array(text.utf8)
        guard bytes.count >= 19 else { return nil }
        func number(_ range: Range<Int>) -> Int? {
            var value = 0
            for i in range {
                guard (0x30...0x39).contains(bytes[i]) else { return nil }
                value = value * 10 + Int(bytes[i] - 0x30)
            }
            return value
        }
        guard let year = number(0..<4), let month = number(5..<7), let day = number(8..<10),
            let hour = number(11..<13), let minute = number(14..<16), let second = number(17..<19)
        else { return nil }
        var parts = tm()
        parts.tm_year = Int32(year - 1900)
        parts.tm_mon = Int32(month - 1)
        parts.tm_mday = Int32(day)
        parts.tm_hour = Int32(hour)
        parts.tm_min = Int32(minute)
        parts.tm_sec = Int32(second)
        var fraction = 0.0
        if bytes.count > 20, bytes[19] == UInt8(ascii: ".") {
            var scale = 0.1
            var i = 20
            while i < bytes.count, (0x30...0x39).contains(bytes[i]) {
                fraction += Double(bytes[i] - 0x30) * scale
                scale /= 10
                i += 1
            }
        }
        return Double(timegm(&parts)) + fraction
    }
}
