#if canImport(Glibc)
import Glibc
#endif
import KittBase

/// Request ids (`X-Request-Id`): a client's own id when it is sane (proxies and load balancers
/// set one, and the logs of both sides then agree), else `<process prefix><loop><sequence>`,
/// unique within the process and unlikely to repeat across restarts.
enum RequestID {
    /// 1–128 characters of `[A-Za-z0-9._:-]`: nothing that could forge a log line or a header.
    static func isSane(_ id: String) -> Bool {
        let utf8 = id.utf8
        guard !utf8.isEmpty, utf8.count <= 128 else { return false }
        return utf8.allSatisfy { byte in
            switch byte {
            case UInt8(ascii: "A")...UInt8(ascii: "Z"), UInt8(ascii: "a")...UInt8(ascii: "z"),
                UInt8(ascii: "0")...UInt8(ascii: "9"), UInt8(ascii: "."), UInt8(ascii: "_"), UInt8(ascii: ":"),
                UInt8(ascii: "-"):
                true
            default: false
            }
        }
    }

    /// On the loop's thread.
    static func assign(incoming: String?, server: HTTPServer, loop: EventLoop) -> String {
        if let incoming, isSane(incoming) { return incoming }
        loop.nextRequestNumber &+= 1
        return server.requestIDPrefix + hex(UInt64(loop.index), width: 2) + hex(loop.nextRequestNumber, width: 10)
    }

    static func processPrefix() -> String {
        SecureRandom.hex(bytes: 4)
    }

    static func hex(_ value: UInt64, width: Int) -> String {
        let digits = String(value, radix: 16)
        return digits.count >= width ? String(digits.suffix(width)) : String(repeating: "0", count: width - digits.count) + digits
    }

    /// Seconds since the epoch.
    static func wallClock() -> Double {
        var now = timespec()
        clock_gettime(CLOCK_REALTIME, &now)
        return Double(now.tv_sec) + Double(now.tv_nsec) / 1e9
    }
}
