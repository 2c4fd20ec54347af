#if canImport(Glibc)
import Glibc
#endif

/// A host name that does not resolve. getaddrinfo reports through its own codes
/// (`gai_strerror`), not errno: printing errno here showed an unrelated message.
public struct AddressError: Error, Sendable, CustomStringConvertible {
    public let host: String
    public let port: Int
    /// getaddrinfo's return code (EAI_*).
    public let code: Int32
    /// errno, meaningful only when `code` is EAI_SYSTEM.
    public let systemErrno: Int32

    public var description: String {
        let reason = code == EAI_SYSTEM ? String(cString: strerror(systemErrno)) : String(cString: gai_strerror(code))
        return "cannot resolve '\(host)' (port \(port)): \(reason)"
    }
}
