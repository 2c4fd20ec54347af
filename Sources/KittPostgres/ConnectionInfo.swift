#if canImport(Glibc)
import Glibc
#endif
internal import CPostgres

/// Where the store's PostgreSQL is: a `postgres://user@host:5432/db?sslmode=require` URL
/// (or libpq's `key=value` form), handed to libpq unchanged, so everything libpq honours —
/// the password from the URL, `PGPASSWORD`, `~/.pgpass`, `sslmode`, `PGHOST`... — works as
/// the PostgreSQL documentation says. This type only checks it and keeps the password out
/// of everything it prints.
public struct ConnectionInfo: Sendable, CustomStringConvertible {
    /// What libpq receives (holds the password when the URL does: never print it).
    public let conninfo: String
    /// The password written into `conninfo`, if any, so messages echoing it can be scrubbed.
    let password: String?
    /// The URL as given (without kitt's defaults), for `description`.
    private let given: String

    /// The environment variable `kitt` reads when no `--database` is given.
    public static let environmentVariable = "KITT_DATABASE_URL"

    /// Throws when libpq cannot parse `url` (unknown keyword, bad URI); the error is redacted.
    /// Also throws when libpq cannot be loaded (`LibPQ`): parsing is libpq's.
    public init(_ url: String) throws(PostgresError) {
        try self.init(url, libpq: LibPQ.shared)
    }

    init(_ url: String, libpq loaded: Result<LibPQ, PostgresError>) throws(PostgresError) {
        let libpq = try loaded.get()
        var error: UnsafeMutablePointer<CChar>?
        guard let options = libpq.PQconninfoParse(url, &error) else {
            let message = error.map { String(cString: $0) } ?? "out of memory"
            if let error { libpq.PQfreemem(error) }
            throw .client("invalid database URL \(ConnectionInfo.redactURL(url)): "
                + ConnectionInfo.redact(message.trimmingNewlines, password: nil, url: url))
        }
        defer { libpq.PQconninfoFree(options) }
        var password: String?
        var hasConnectTimeout = getenv("PGCONNECT_TIMEOUT") != nil
        var option = options
        while let keyword = option.pointee.keyword {
            let name = String(cString: keyword)
            if name == "password", let value = option.pointee.val {
                password = String(cString: value)
            }
            if name == "connect_timeout", option.pointee.val != nil { hasConnectTimeout = true }
            option += 1
        }
        self.conninfo = hasConnectTimeout ? url : ConnectionInfo.withConnectTimeout(url)
        self.given = url
        self.password = password.flatMap { $0.isEmpty ? nil : $0 }
    }

    /// Seconds a connection attempt may take unless the URL (or PGCONNECT_TIMEOUT) says: libpq
    /// waits for TCP's own timeout (minutes) by default, and a store worker stuck that long on
    /// an unreachable server holds up every request behind it.
    public static let defaultConnectTimeout = 10

    /// Whether `text` is a PostgreSQL URL (libpq's other form is `key=value` text).
    public static func isURL(_ text: String) -> Bool {
        text.hasPrefix("postgres://") || text.hasPrefix("postgresql://")
    }

    static func withConnectTimeout(_ url: String) -> String {
        let setting = "connect_timeout=\(defaultConnectTimeout)"
        if isURL(url) {
            return url + (url.contains("?") ? "&" : "?") + setting
        }
        return url + " " + setting
    }

    /// `KITT_DATABASE_URL`, or nil when unset or empty.
    public static func fromEnvironment() throws(PostgresError) -> ConnectionInfo? {
        guard let raw = getenv(environmentVariable) else { return nil }
        let value = String(cString: raw)
        return value.isEmpty ? nil : try ConnectionInfo(value)
    }

    /// The URL with its password replaced by `***` (safe for logs and errors).
    public var description: String { ConnectionInfo.redactURL(given) }

    /// `message` with every appearance of the password (and of password fields) masked.
    func redact(_ message: String) -> String {
        ConnectionInfo.redact(message, password: password, url: conninfo)
    }

    static func redact(_ message: String, password: String?, url: String) -> String {
        var text = message
        if let password, !password.isEmpty { text = text.replacingAll(password, with: "***") }
        return redactURL(text)
    }

    /// Masks `scheme://user:PASSWORD@`, `password=VALUE` (key/value and URI query) anywhere in `text`.
    static func redactURL(_ text: String) -> String {
        var out = Substring(text)
        var result = ""
        // userinfo: between "://" and the next "@" (before any "/"), mask what follows the first ":".
        while let scheme = out.range(of: "://") {
            result += out[..<scheme.upperBound]
            out = out[scheme.upperBound...]
            let authorityEnd = out.firstIndex(where: { $0 == "/" || $0 == "?" || $0 == " " }) ?? out.endIndex
            if let at = out[..<authorityEnd].lastIndex(of: "@"), let colon = out[..<at].firstIndex(of: ":") {
                result += out[...colon] + "***"
                out = out[at...]
            }
        }
        result += out
        return maskPasswordFields(result)
    }

    /// `password=secret` / `password='sec ret'` / `?password=secret&` → `password=***`.
    private static func maskPasswordFields(_ text: String) -> String {
        var result = ""
        var rest = Substring(text)
        while let key = rest.range(of: "password=") {
            result += rest[..<key.upperBound] + "***"
            rest = rest[key.upperBound...]
            if rest.first == "'" {
                // Quoted: up to the closing quote (backslash escapes one character).
                var i = rest.index(after: rest.startIndex)
                while i < rest.endIndex, rest[i] != "'" {
                    if rest[i] == "\\" { i = rest.index(after: i); if i == rest.endIndex { break } }
                    i = rest.index(after: i)
                }
                rest = i < rest.endIndex ? rest[rest.index(after: i)...] : rest[rest.endIndex...]
            } else {
                let end = rest.firstIndex(where: { $0 == " " || $0 == "&" || $0 == "\n" }) ?? rest.endIndex
                rest = rest[end...]
            }
        }
        return result + rest
    }
}

extension Substring {
    fileprivate func range(of needle: String) -> Range<Index>? {
        let n = Array(needle.utf8)
        guard !n.isEmpty else { return nil }
        var i = startIndex
        while i < endIndex {
            if self[i...].utf8.starts(with: n) {
                let end = self.utf8.index(i, offsetBy: n.count)
                return i..<end
            }
            i = index(after: i)
        }
        return nil
    }
}

extension String {
    fileprivate func replacingAll(_ needle: String, with replacement: String) -> String {
        var result = ""
        var rest = Substring(self)
        while let r = rest.range(of: needle) {
            result += rest[..<r.lowerBound] + replacement
            rest = rest[r.upperBound...]
        }
        return result + rest
    }

    var trimmingNewlines: String {
        var s = Substring(self)
        while let last = s.last, last == "\n" || last == "\r" || last == " " { s = s.dropLast() }
        return String(s)
    }
}
