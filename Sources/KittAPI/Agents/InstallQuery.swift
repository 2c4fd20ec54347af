import KittHTTP

/// The query of `GET /agent/install.sh` (SPEC §7.2), every value validated before any of it
/// reaches the script or the store.
struct InstallQuery {
    var name: String?
    var port = 8090
    var engineURL: String?

    /// Provisioned agents and nameless tokens waiting to register, at most (unauthenticated
    /// fetches create them; beyond this only the admin token provisions more).
    static let maxUnregistered = 1_000
    static let maxURLBytes = 2_048

    init(_ request: HTTPRequest) throws(HTTPError) {
        if let value = try request.queryInteger("port", in: 1...65535) { port = value }
        if let name = request.queryValue("name"), !name.isEmpty {
            try AgentLimits.checkName(name)
            self.name = name
        }
        if let url = request.queryValue("engine_url"), !url.isEmpty {
            try InstallQuery.checkEngineURL(url)
            engineURL = url
        }
    }

    /// An http(s) URL with a host, no whitespace or control characters (a newline would add
    /// lines to agent.conf), at most 2 KiB.
    static func checkEngineURL(_ url: String) throws(HTTPError) {
        guard url.utf8.count <= maxURLBytes else {
            throw HTTPError.badRequest("engine_url is longer than \(maxURLBytes) bytes")
        }
        guard !url.unicodeScalars.contains(where: { $0.value <= 0x20 || $0.value == 0x7F || $0.properties.isWhitespace })
        else { throw HTTPError.badRequest("engine_url must not contain whitespace or control characters") }
        let lower = url.lowercased()
        let rest: Substring
        if lower.hasPrefix("http://") {
            rest = url.dropFirst(7)
        } else if lower.hasPrefix("https://") {
            rest = url.dropFirst(8)
        } else {
            throw HTTPError.badRequest("engine_url must be an http:// or https:// URL")
        }
        guard let first = rest.first, first != "/", first != "?", first != "#" else {
            throw HTTPError.badRequest("engine_url must name a host")
        }
    }

    /// True when the request carries the admin token (or auth is off). Anything else is not an
    /// error here: new names need no token.
    static func isAdmin(_ request: HTTPRequest, auth: Auth) -> Bool {
        guard let adminToken = auth.adminToken else { return true }
        guard let token = (try? Auth.bearerToken(of: request)) ?? nil else { return false }
        return Auth.constantTimeEquals(token, adminToken)
    }

    /// The answer to `AgentsService.RotationNeedsAdmin`: 401 (no token) / 403 (not the admin's).
    static func rotationRefusal(_ request: HTTPRequest, name: String, auth: Auth) -> HTTPError {
        do {
            try requireAdminToRotate(request, name: name, auth: auth)
        } catch {
            return error
        }
        return HTTPError.forbidden("agent '\(name)' exists: rotating its token needs the admin token")
    }

    /// 401 (no token) / 403 (not the admin's), saying why.
    static func requireAdminToRotate(_ request: HTTPRequest, name: String, auth: Auth) throws(HTTPError) {
        let why = "agent '\(name)' exists: rotating its token needs the admin token"
        do {
            try auth.requireAdmin(request)
        } catch {
            throw HTTPError(error.status, why, headers: error.headers)
        }
    }
}
