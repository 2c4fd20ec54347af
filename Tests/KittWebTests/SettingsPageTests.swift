import KittAPI
import KittHTTP
import KittJSON
import KittTestSupport
import Testing

@testable import KittWeb

/// `/settings`: the server's configuration without its secrets, and the admin's sessions
/// with revoke and "sign out everywhere".
@Suite struct SettingsPageTests {
    static let devonKey = "devon-key-do-not-show"
    static let metricsToken = "metrics-token-do-not-show"

    static func harness() throws -> WebHarness {
        try WebHarness(
            configure: { settings in
                settings.devonURL = "http://devon.lab:8000"
                settings.devonAPIKey = devonKey
                settings.metricsToken = metricsToken
                settings.agentOfflineAfterSeconds = 90
            },
            serverFacts: ServerFacts([.init("TLS", "on, certificate from the local CA")]))
    }

    @Test func showsTheConfigurationButNoSecretAndOnlyWhenSignedIn() throws {
        let web = try SettingsPageTests.harness()
        let anonymous = web.call(.get, "/settings").text
        #expect(anonymous.contains("to see the server"))
        #expect(!anonymous.contains("Data directory"))

        let (cookie, _) = try web.signIn()
        let page = web.call(.get, "/settings", headers: [("Cookie", cookie)])
        #expect(page.status == 200)
        let html = page.text
        for expected in [
            "Version", KittVersion.current, "https://localhost:8443", web.api.settings.dataDirectory, "90 s",
            "needs its bearer token", "on, certificate from the local CA", "this browser", "Sign out everywhere",
        ] {
            #expect(html.contains(expected), "missing \(expected)")
        }
        // Reachable from the header navigation, marked as the current page.
        #expect(html.contains("<a href=\"/settings\" aria-current=\"page\">Settings</a>"))
        for secret in [web.api.token, SettingsPageTests.devonKey, SettingsPageTests.metricsToken, "devon.lab"] {
            #expect(!html.contains(secret), "the page shows \(secret)")
        }
    }

    @Test func revokingEndsOneSessionAndSignOutEverywhereEndsAll() throws {
        let web = try SettingsPageTests.harness()
        let (mine, csrf) = try web.signIn()
        let (other, otherCSRF) = try web.signIn()
        #expect(web.sessions.count == 2)
        let handles = web.sessions.list(currentID: String(mine.dropFirst("kitt_session=".count)))
        let otherHandle = try #require(handles.first { !$0.current }?.handle)
        #expect(handles.filter(\.current).count == 1)

        let json = ("Content-Type", "application/json")
        // Without the CSRF token, or with a body naming nothing: refused, nothing ends.
        #expect(web.call(.post, "/ui/sessions/revoke", body: "{\"all\":true}", headers: [("Cookie", mine), json]).status == 403)
        let empty = web.call(.post, "/ui/sessions/revoke", body: "{}", headers: [("Cookie", mine), ("X-CSRF-Token", csrf), json])
        #expect(empty.status == 400 && empty.text.contains("'sessions'"))
        #expect(web.sessions.count == 2)

        let revoked = web.call(
            .post, "/ui/sessions/revoke", body: "{\"sessions\":[\"\(otherHandle)\"]}",
            headers: [("Cookie", mine), ("X-CSRF-Token", csrf), json])
        #expect(revoked.status == 200)
        #expect(revoked.json?["revoked"]?.intValue == 1 && revoked.json?["signed_out"]?.boolValue == false)
        // The other browser's next write is refused; this one still works.
        #expect(web.call(.get, "/settings", headers: [("Cookie", other)]).text.contains("to see the server"))
        #expect(web.call(.post, "/ui/sessions/revoke", body: "{\"all\":true}",
            headers: [("Cookie", other), ("X-CSRF-Token", otherCSRF), json]).status == 401)
        #expect(web.sessions.count == 1)

        let everywhere = web.call(
            .post, "/ui/sessions/revoke", body: "{\"all\":true}", headers: [("Cookie", mine), ("X-CSRF-Token", csrf), json])
        #expect(everywhere.status == 200 && everywhere.json?["signed_out"]?.boolValue == true)
        #expect(everywhere.headers.values(for: "Set-Cookie").contains { $0.hasPrefix("kitt_session=;") })
        #expect(web.sessions.count == 0)
        // Gone from the store too: a restart does not bring them back.
        #expect(try WebSessions(store: web.api.store).count == 0)
    }
}
