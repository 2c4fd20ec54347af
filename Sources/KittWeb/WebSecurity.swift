import KittAPI
import KittHTTP

/// Cookies, CSRF checks and the headers every UI response carries.
enum WebSecurity {
    static let sessionCookie = "kitt_session"
    /// Double-submit token for the sign-in form (there is no session yet to hold one).
    static let signInCookie = "kitt_signin"
    static let csrfHeader = "X-CSRF-Token"

    /// No inline script or style, nothing from elsewhere, never framed.
    static let contentSecurityPolicy =
        "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data:; connect-src 'self'; "
        + "object-src 'none'; base-uri 'none'; form-action 'self'; frame-ancestors 'none'"

    static func addPageHeaders(_ headers: inout HTTPHeaders) {
        headers.add(name: "Content-Security-Policy", value: contentSecurityPolicy)
        headers.add(name: "X-Content-Type-Options", value: "nosniff")
        headers.add(name: "Referrer-Policy", value: "same-origin")
        headers.add(name: "X-Frame-Options", value: "DENY")
    }

    /// The value of cookie `name` in the request, if any.
    static func cookie(_ name: String, in request: HTTPRequest) -> String? {
        guard let header = request.headers["Cookie"] else { return nil }
        for pair in header.split(separator: ";") {
            let parts = pair.split(separator: "=", maxSplits: 1, omittingEmptySubsequences: false)
            guard parts.count == 2 else { continue }
            if parts[0].trimmingSpaces() == name { return String(parts[1].trimmingSpaces()) }
        }
        return nil
    }

    /// `Set-Cookie` for a cookie the page script never reads.
    static func setCookie(_ name: String, _ value: String, maxAge: Int, secure: Bool) -> String {
        "\(name)=\(value); Path=/; Max-Age=\(maxAge); HttpOnly; SameSite=Strict" + (secure ? "; Secure" : "")
    }

    /// True when the request's CSRF header equals `expected` (constant time).
    static func csrfMatches(_ request: HTTPRequest, expected: String) -> Bool {
        guard let given = request.headers[csrfHeader], !given.isEmpty, !expected.isEmpty else { return false }
        return Auth.constantTimeEquals(given, expected)
    }
}

extension Substring {
    func trimmingSpaces() -> Substring {
        var s = self
        while let f = s.first, f == " " || f == "\t" || f == "\r" || f == "\n" { s.removeFirst() }
        while let l = s.last, l == " " || l == "\t" || l == "\r" || l == "\n" { s.removeLast() }
        return s
    }
}
