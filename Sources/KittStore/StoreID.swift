#if canImport(Glibc)
import Glibc
#endif

/// Record ids: 16 lowercase hex characters (64 bits) from the system CSPRNG (getrandom).
public enum StoreID {
    public static func make() -> String {
        var generator = SystemRandomNumberGenerator()
        return hex64(generator.next())
    }

    /// `value` as 16 lowercase hex digits.
    public static func hex64(_ value: UInt64) -> String {
        let digits = Array("0123456789abcdef".utf8)
        var out = [UInt8](repeating: 0, count: 16)
        for i in 0..<16 {
            out[15 - i] = digits[Int((value >> (UInt64(i) * 4)) & 0xF)]
        }
        return String(decoding: out, as: UTF8.self)
    }

    public static func isValid(_ text: String) -> Bool {
        text.utf8.count == 16 && text.utf8.allSatisfy { (0x30...0x39).contains($0) || (0x61...0x66).contains($0) }
    }
}
