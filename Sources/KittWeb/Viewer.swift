/// Who is looking at a page: signed in (a live session) or not, and the CSRF token the
/// page's script sends with writes.
struct Viewer: Sendable {
    let signedIn: Bool
    /// The session's CSRF token, or the sign-in form's double-submit token.
    let csrfToken: String
    /// `--insecure` without a token: every API read and write is open.
    let authOff: Bool

    var canWrite: Bool { signedIn }
}
