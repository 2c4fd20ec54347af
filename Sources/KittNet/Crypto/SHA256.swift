import COpenSSL
import KittBase

/// SHA-256 through OpenSSL's EVP interface, for agent tokens (stored only as their hash) and
/// the sha256 of the agent bundles.
public enum SHA256 {
    /// The 32-byte digest of `message`.
    public static func hash(_ message: [UInt8]) -> [UInt8] {
        var digest = [UInt8](repeating: 0, count: 32)
        var length: UInt32 = 0
        let status = message.withUnsafeBytes { input in
            digest.withUnsafeMutableBufferPointer { output in
                EVP_Digest(input.baseAddress, input.count, output.baseAddress, &length, EVP_sha256(), nil)
            }
        }
        // Only an allocation failure inside OpenSSL can make a one-shot SHA-256 fail.
        precondition(status == 1 && length == 32, "EVP_Digest(SHA-256) failed")
        return digest
    }

    /// Lowercase hex of the digest.
    public static func hex(_ message: [UInt8]) -> String { Hex.lowercase(hash(message)) }

    public static func hex(_ text: String) -> String { hex(Array(text.utf8)) }
}
