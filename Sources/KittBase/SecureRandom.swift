/// Random bytes for tokens and ids from the system CSPRNG (`SystemRandomNumberGenerator` is
/// getrandom(2) on Linux, arc4random on Darwin).
public enum SecureRandom {
    public static func bytes(_ count: Int) -> [UInt8] {
        var generator = SystemRandomNumberGenerator()
        var out: [UInt8] = []
        out.reserveCapacity(count)
        while out.count < count {
            let word = generator.next() as UInt64
            for shift in stride(from: 0, to: 64, by: 8) where out.count < count {
                out.append(UInt8(truncatingIfNeeded: word >> UInt64(shift)))
            }
        }
        return out
    }

    /// Lowercase hex of `bytes` random bytes (2 × `bytes` characters).
    public static func hex(bytes: Int) -> String { Hex.lowercase(self.bytes(bytes)) }
}

public enum Hex {
    /// Lowercase hex, two characters per byte.
    public static func lowercase(_ bytes: some Sequence<UInt8>) -> String {
        var out: [UInt8] = []
        out.reserveCapacity(bytes.underestimatedCount * 2)
        for byte in bytes {
            out.append(digit(byte >> 4))
            out.append(digit(byte & 0xF))
        }
        return String(decoding: out, as: UTF8.self)
    }

    @inline(__always) private static func digit(_ value: UInt8) -> UInt8 { value < 10 ? value &+ 0x30 : value &+ 0x57 }
}
