import KittHTTP

/// Who is looking at a page: signed in (a live session) or not, and the CSRF token the
/// page's script sends with writes.
struct Viewer: Sendable {
    let signedIn: Bool
    /// The session's CSRF token, or the sign-in form's double-submit token.
    let csrfToken: String
    /// `--insecure` without a token: every API read and write is open.
    let authOff: Bool
    /// Which optional API routes this server has (pages offer only what works).
    var features = Features()

    var canWrite: Bool { signedIn }
}

/// Optional API routes, found in the API router when the UI is registered: other builds of
/// kitt may not have them yet, and the UI does not offer a button that would 404.
struct Features: Sendable {
    var engineProfiles = false
    var rotateToken = false

    init() {}

    init(api: Router) {
        engineProfiles = Features.has(api, .get, "/api/v1/engines/profiles")
        rotateToken = Features.has(api, .post, "/api/v1/agents/0000000000000000/rotate-token")
    }

    static func has(_ api: Router, _ method: HTTPMethod, _ path: String) -> Bool {
        if case .found = api.resolve(method: method, path: path) { return true }
        return false
    }
}
