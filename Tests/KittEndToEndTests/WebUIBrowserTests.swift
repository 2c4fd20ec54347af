import Foundation
import KittTestSupport
import Testing

/// The web UI in a real browser (issue 14): headless Chromium, driven by Selenium from
/// Tests/Browser/webui.py, against the real server over TLS. The script also plays the fake
/// agent over HTTPS, so every live update it waits for comes from the server's SSE stream.
///
/// Screenshots: set KITT_WEBUI_SCREENSHOTS=/tmp/dir to keep one per page at 1280 and 390 px.
@Suite struct WebUIBrowserTests {
    static let python = "/usr/bin/python3"
    static let script = APIHarness.repositoryRoot + "/Tests/Browser/webui.py"

    /// Debian's chromium, chromium-driver and python3-selenium (`.ci/run` installs them).
    static var toolsPresent: Bool {
        let files = FileManager.default
        guard files.isExecutableFile(atPath: "/usr/bin/chromium"), files.isExecutableFile(atPath: "/usr/bin/chromedriver"),
            files.isExecutableFile(atPath: python)
        else { return false }
        let probe = Process()
        probe.executableURL = URL(fileURLWithPath: python)
        probe.arguments = ["-c", "import selenium"]
        probe.standardError = FileHandle.nullDevice
        guard (try? probe.run()) != nil else { return false }
        probe.waitUntilExit()
        return probe.terminationStatus == 0
    }

    @Test(
        .enabled(if: toolsPresent, "needs /usr/bin/chromium, chromium-driver and python3-selenium (.ci/run installs them)"))
    func everyScenarioPassesInChromium() throws {
        let server = try E2E.server()
        defer { server.stop() }
        var arguments = [
            WebUIBrowserTests.script, "--url", "https://localhost:\(server.port)",
            "--token", try #require(server.token), "--ca", try #require(server.caFile),
        ]
        if let directory = ProcessInfo.processInfo.environment["KITT_WEBUI_SCREENSHOTS"] {
            arguments += ["--screenshots", directory]
        }
        let child = try ChildProcess(WebUIBrowserTests.python, arguments)
        let status = child.waitForExit(timeout: 110)
        if status == nil { child.signal(SIGKILL) }
        let scenarios = [
            "keyboard", "install-command", "sign-in", "agent-live", "quicktest-live-log", "campaign-wizard",
            "campaign-edit-draft", "compare-charts", "hostile-name", "agent-cleanup", "rotate-token", "csrf", "sign-out",
        ]
        for scenario in scenarios {
            #expect(child.stdout.contains("PASS \(scenario)\n"), "\(scenario) did not pass:\n\(child.stdout)\n\(child.stderr)")
        }
        #expect(status == 0, "webui.py exited \(String(describing: status)):\n\(child.stdout)\n\(child.stderr)")
    }
}
