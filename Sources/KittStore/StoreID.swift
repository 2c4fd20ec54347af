import KittBase

/// Record ids: 16 lowercase hex characters (64 bits) from the system CSPRNG (getrandom).
public enum StoreID {
    public static func make() -> String { SecureRandom.hex(bytes: 8) }

    public static func isValid(_ text: String) -> Bool {
        text.utf8.count == 16 && text.utf8.allSatisfy { (0x30...0x39).contains($0) || (0x61...0x66).contains($0) }
    }
}
