import Foundation
import KittTestSupport
import Synchronization
import Testing

/// The web UI in real browsers (issue 14): headless Chromium and Firefox, driven by Selenium from
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
        return files.isExecutableFile(atPath: "/usr/bin/chromium") && files.isExecutableFile(atPath: "/usr/bin/chromedriver")
            && seleniumPresent
    }

    static var seleniumPresent: Bool {
        guard FileManager.default.isExecutableFile(atPath: python) else { return false }
        let probe = Process()
        probe.executableURL = URL(fileURLWithPath: python)
        probe.arguments = ["-c", "import selenium"]
        probe.standardError = FileHandle.nullDevice
        guard (try? probe.run()) != nil else { return false }
        probe.waitUntilExit()
        return probe.terminationStatus == 0
    }

    /// Debian's firefox-esr, driven over Marionette by Tests/Browser/marionette.py (no geckodriver).
    static var firefox: String? {
        ["/usr/bin/firefox-esr", "/usr/bin/firefox"].first { FileManager.default.isExecutableFile(atPath: $0) }
    }

    static let scenarios = [
        "keyboard", "install-command", "sign-in", "agent-live", "quicktest-live-log", "campaign-wizard",
        "campaign-edit-draft", "compare-charts", "phone-layout", "hostile-name", "agent-cleanup", "rotate-token", "csrf",
        "model-download", "settings", "sign-out",
    ]

    @Test(
        .enabled(if: toolsPresent, "needs /usr/bin/chromium, chromium-driver and python3-selenium (.ci/run installs them)"))
    func everyScenarioPassesInChromium() throws {
        try runScenarios(browser: "chromium", budget: 130)
    }

    @Test(
        .enabled(
            if: firefox != nil && seleniumPresent,
            "needs firefox-esr and python3-selenium (.ci/run installs them)"))
    func everyScenarioPassesInFirefox() throws {
        try runScenarios(browser: "firefox", budget: 160)
    }

    func runScenarios(browser: String, budget: Int) throws {
        let devon = try FakeDevon()
        defer { devon.stop() }
        let server = try E2E.server { $0.devonURL = devon.server.url }
        defer { server.stop() }
        var arguments = [
            WebUIBrowserTests.script, "--url", "https://localhost:\(server.port)",
            "--token", try #require(server.token), "--ca", try #require(server.caFile),
            "--browser", browser, "--budget", String(budget), "--devon", devon.server.url,
        ]
        if let directory = ProcessInfo.processInfo.environment["KITT_WEBUI_SCREENSHOTS"] {
            arguments += ["--screenshots", directory]
        }
        let child = try ChildProcess(WebUIBrowserTests.python, arguments)
        let status = child.waitForExit(timeout: Double(budget + 10))
        if status == nil { child.signal(SIGKILL) }
        for scenario in WebUIBrowserTests.scenarios {
            #expect(child.stdout.contains("PASS \(scenario)\n"), "\(browser): \(scenario) did not pass:\n\(child.stdout)\n\(child.stderr)")
        }
        #expect(status == 0, "webui.py (\(browser)) exited \(String(describing: status)):\n\(child.stdout)\n\(child.stderr)")
    }
}

/// Devon for the browser scenarios: finds one model, and holds its download until the
/// script POSTs /release (so the page is seen while the download runs); then lists it.
final class FakeDevon: Sendable {
    final class State: Sendable {
        let release = DispatchSemaphore(value: 0)
        let downloaded = Mutex(false)
    }

    let server: FakeHTTPServer
    private let state = State()

    init() throws {
        let state = self.state
        server = try FakeHTTPServer { request in
            switch (request.method, request.target.split(separator: "?").first ?? "") {
            case ("GET", "/api/v1/search"):
                return .json(200, #"{"results": [{"model_id": "org/tiny-gguf", "model_name": "Tiny GGUF", "source": "huggingface", "total_size_bytes": 1073741824, "downloads": 7}]}"#)
            case ("GET", "/api/v1/models"):
                let done = state.downloaded.withLock { $0 }
                return .json(200, done
                    ? #"{"models": [{"source": "huggingface", "model_id": "org/tiny-gguf", "path": "/models/org/tiny-gguf", "size_bytes": 1073741824}]}"#
                    : #"{"models": []}"#)
            case ("POST", "/api/v1/downloads"):
                guard state.release.wait(timeout: .now() + 60) == .success else { return .json(504, "{}") }
                state.downloaded.withLock { $0 = true }
                return .json(200, #"{"path": "/models/org/tiny-gguf"}"#)
            case ("POST", "/release"):
                state.release.signal()
                return .json(200, "{}")
            default:
                return .json(404, "{}")
            }
        }
    }

    func stop() {
        state.release.signal()
        server.stop()
    }
}
