/// The parts of an `http://` or `https://` URL that a request needs. No user info, no
/// fragment (dropped), host names or bracketed IPv6 literals.
public struct URLParts: Sendable, Equatable {
    public let scheme: String
    /// Host without brackets (`::1`, `localhost`, `10.0.0.2`).
    public let host: String
    public let port: Int
    /// Origin-form request target: path and query, always starting with `/`.
    public let pathAndQuery: String

    public var isTLS: Bool { scheme == "https" }

    /// The `Host` header value: brackets around IPv6, port only when not the scheme's default.
    public var hostHeader: String {
        let shown = host.contains(":") ? "[\(host)]" : host
        let defaultPort = isTLS ? 443 : 80
        return port == defaultPort ? shown : "\(shown):\(port)"
    }

    public init(scheme: String, host: String, port: Int, pathAndQuery: String) {
        self.scheme = scheme
        self.host = host
        self.port = port
        self.pathAndQuery = pathAndQuery
    }

    /// Parses `scheme://host[:port][/path][?query][#fragment]`; throws `.malformed` otherwise.
    public init(parsing url: String) throws(ClientError) {
        guard let separator = url.firstRange(of: "://") else {
            throw .malformed("URL without a scheme: \(url)")
        }
        let scheme = url[..<separator.lowerBound].lowercased()
        guard scheme == "http" || scheme == "https" else {
            throw .malformed("unsupported URL scheme '\(scheme)'")
        }
        var rest = url[separator.upperBound...]
        if let hash = rest.firstIndex(of: "#") { rest = rest[..<hash] }
        let authorityEnd = rest.firstIndex { $0 == "/" || $0 == "?" } ?? rest.endIndex
        let authority = rest[..<authorityEnd]
        var target = String(rest[authorityEnd...])
        if target.isEmpty { target = "/" } else if target.hasPrefix("?") { target = "/" + target }
        guard !authority.contains("@") else { throw .malformed("user info in URLs is not supported") }
        guard target.utf8.allSatisfy({ $0 > 0x20 && $0 < 0x7F }) else {
            throw .malformed("URL path must be visible ASCII (percent-encode the rest)")
        }

        var host: Substring
        var portText: Substring?
        if authority.hasPrefix("[") {
            guard let close = authority.firstIndex(of: "]") else { throw .malformed("unterminated IPv6 literal") }
            host = authority[authority.index(after: authority.startIndex)..<close]
            let after = authority[authority.index(after: close)...]
            if !after.isEmpty {
                guard after.hasPrefix(":") else { throw .malformed("junk after IPv6 literal") }
                portText = after.dropFirst()
            }
            guard host.contains(":") else { throw .malformed("bad IPv6 literal") }
        } else if let colon = authority.lastIndex(of: ":") {
            host = authority[..<colon]
            portText = authority[authority.index(after: colon)...]
        } else {
            host = authority
        }
        guard !host.isEmpty else { throw .malformed("URL without a host: \(url)") }
        guard host.utf8.allSatisfy({ $0 > 0x20 && $0 < 0x7F && $0 != UInt8(ascii: "/") }) else {
            throw .malformed("bad host in URL")
        }
        var port = scheme == "https" ? 443 : 80
        if let portText {
            guard let value = Int(portText), (1...65535).contains(value) else {
                throw .malformed("bad port '\(portText)'")
            }
            port = value
        }
        self.init(scheme: scheme, host: String(host), port: port, pathAndQuery: target)
    }
}
