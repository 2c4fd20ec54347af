/// Why an outbound request failed. The description is safe to log and short enough to put
/// in a 502's message (it never contains response bodies or credentials).
public enum ClientError: Error, Sendable, Equatable, CustomStringConvertible {
    /// DNS, refused, unreachable: nothing was sent.
    case connectFailed(String)
    /// Connecting, the handshake, sending or the response took longer than allowed.
    case timeout(String)
    /// The TLS handshake or TLS I/O failed (including certificate verification).
    case tls(String)
    /// A bad URL or header, or a response that is not valid HTTP/1.x.
    case malformed(String)
    /// The response passed `maxResponseBytes`.
    case tooLarge

    public var description: String {
        switch self {
        case .connectFailed(let why): return "connection failed: \(why)"
        case .timeout(let why): return "timed out: \(why)"
        case .tls(let why): return "TLS failed: \(why)"
        case .malformed(let why): return "malformed: \(why)"
        case .tooLarge: return "response too large"
        }
    }
}
