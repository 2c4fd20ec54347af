#if canImport(Glibc)
import Glibc
#endif
import KittBase
import KittHTTP

/// With auth off (`--insecure` and no token) anyone who can reach the port may write, so
/// what remains to stop is a *browser* being used against it (SPEC §7.2):
/// - DNS rebinding: a page on `evil.example` whose name is re-pointed at kitt's address can
///   read and write with the page's own origin. Its requests carry `Host: evil.example`, so
///   every request (reads too: results are not public just because auth is off) must name
///   kitt by an IP literal, `localhost`, the machine's host name or an `--allowed-host` → else 421.
/// - Cross-site form posts: a form (or a `no-cors` fetch) can POST `text/plain`, form-encoded
///   or no body at all without a CORS preflight. Writes must say `application/json`, which a
///   browser sends cross-site only after a preflight kitt never approves → else 415.
public struct AuthOffGuard: Sendable {
    /// Lowercased host names accepted besides IP literals.
    private let names: Set<String>

    public init(hostName: String, allowedHosts: [String] = []) {
        var names: Set<String> = ["localhost"]
        for name in [hostName] + allowedHosts {
            let normalized = AuthOffGuard.normalize(name)
            if !normalized.isEmpty { names.insert(normalized) }
        }
        self.names = names
    }

    /// The request's error when it must not be served, nil when it may go on.
    public func rejection(for request: HTTPRequest) -> HTTPError? {
        if let host = request.headers["Host"], !allows(host: host) {
            let allowed = (["an IP address"] + names.sorted().map { "'\($0)'" }).joined(separator: ", ")
            return HTTPError(
                .misdirectedRequest,
                "Host '\(host)' is not this server; with auth off kitt answers only to \(allowed) (--allowed-host adds names)")
        }
        if AuthOffGuard.isWrite(request.method) && !AuthOffGuard.isJSON(request.headers["Content-Type"]) {
            return HTTPError(
                .unsupportedMediaType,
                "with auth off, \(request.method) requests need 'Content-Type: application/json' (no cross-site form posts)")
        }
        return nil
    }

    /// `Host` is `name[:port]` or `[v6]:port`; an IP literal or a known name passes.
    func allows(host header: String) -> Bool {
        var host = header.trimmed()
        if host.hasPrefix("[") {
            guard let close = host.firstIndex(of: "]") else { return false }
            return AuthOffGuard.isIPLiteral(host[host.index(after: host.startIndex)..<close], family: AF_INET6)
        }
        if let colon = host.lastIndex(of: ":") { host = host[..<colon] }
        if AuthOffGuard.isIPLiteral(host, family: AF_INET) { return true }
        return names.contains(AuthOffGuard.normalize(String(host)))
    }

    static func normalize(_ name: String) -> String {
        var name = name.lowercased()
        while name.hasSuffix(".") { name.removeLast() }
        return name
    }

    static func isIPLiteral(_ text: Substring, family: Int32) -> Bool {
        var address = in6_addr()
        return String(text).withCString { inet_pton(family, $0, &address) } == 1
    }

    /// Anything but the safe methods may change state (POST, PUT, PATCH, DELETE, unknown ones).
    static func isWrite(_ method: HTTPMethod) -> Bool {
        !(method == .get || method == .head || method == .options)
    }

    /// `application/json`, with or without parameters (`; charset=utf-8`), any case.
    static func isJSON(_ contentType: String?) -> Bool {
        guard let contentType else { return false }
        let mediaType = contentType.split(separator: ";", maxSplits: 1, omittingEmptySubsequences: false).first ?? ""
        return mediaType.trimmed().lowercased() == "application/json"
    }
}
