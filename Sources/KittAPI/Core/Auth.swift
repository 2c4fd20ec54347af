import KittBase
import KittHTTP

/// Bearer-token checks (SPEC §3). Credentials are checked before existence, so callers run
/// these first, before looking anything up.
public struct Auth: Sendable {
    /// nil: auth is off (only with `--insecure` and no token configured).
    public let adminToken: String?

    public init(adminToken: String?) {
        self.adminToken = adminToken
    }

    public var isEnabled: Bool { adminToken != nil }

    /// The bearer token of a request: nil when absent; throws 401 when the header is not Bearer.
    public static func bearerToken(of request: HTTPRequest) throws(HTTPError) -> String? {
        guard let header = request.headers["Authorization"] else { return nil }
        let parts = header.split(separator: " ", maxSplits: 1, omittingEmptySubsequences: true)
        guard parts.count == 2, parts[0].lowercased() == "bearer" else {
            throw HTTPError.unauthorized("Authorization must be 'Bearer <token>'")
        }
        return String(parts[1].trimmed())
    }

    /// Admin-only endpoints: no/malformed header → 401, wrong token → 403.
    public func requireAdmin(_ request: HTTPRequest) throws(HTTPError) {
        guard let adminToken else { return }
        guard let token = try Auth.bearerToken(of: request) else {
            throw HTTPError.unauthorized()
        }
        guard Auth.constantTimeEquals(token, adminToken) else {
            throw HTTPError.forbidden()
        }
    }

    /// Compares without an early exit, so timing does not reveal how much of a guess was right.
    public static func constantTimeEquals(_ a: String, _ b: String) -> Bool {
        let x = Array(a.utf8)
        let y = Array(b.utf8)
        var difference = UInt8(truncatingIfNeeded: x.count ^ y.count)
        for i in 0..<max(x.count, y.count) {
            let p = i < x.count ? x[i] : 0
            let q = i < y.count ? y[i] : 0
            difference |= p ^ q
        }
        return difference == 0 && x.count == y.count
    }
}
