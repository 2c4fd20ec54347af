import Dispatch
import Glibc
import KittAPI
import KittHTTP
import KittJSON
import KittTestSupport
import Synchronization
import Testing

@testable import KittWeb

/// The models page lists Devon downloads: a running one with its start time for the
/// browser's counter, a failed one with its error, every value as text.
@Suite struct ModelPageTests {
    @Test func downloadsShowTheirStateAndAreEscaped() throws {
        let hostile = "org/<img src=x onerror=alert(1)>"
        let release = DispatchSemaphore(value: 0)
        let devon = try FakeHTTPServer { request in
            switch (request.method, request.target) {
            case ("GET", "/api/v1/models"): return .json(200, #"{"models": []}"#)
            case ("POST", "/api/v1/downloads"):
                if (try? JSON(parsing: request.body))?["model_id"]?.stringValue == hostile { return .json(500, "{}") }
                _ = release.wait(timeout: .now() + 30)
                return .json(200, #"{"path": "/models/org/slow"}"#)
            default: return .json(404, "{}")
            }
        }
        defer { devon.stop() }
        defer { release.signal() }
        let web = try WebHarness(configure: { $0.devonURL = devon.url })

        #expect(!web.call(.get, "/models").text.contains("id=\"model-downloads\" data-live-region=\"\" aria-live=\"polite\"><h2>"))
        #expect(web.api.admin(.post, "/api/v1/models/download", json: ["repo_id": .string(hostile)]).status == 502)
        let answered = Mutex(false)
        DispatchQueue.global().async {
            _ = web.api.admin(.post, "/api/v1/models/download", json: ["repo_id": "org/slow"])
            answered.withLock { $0 = true }
        }
        var page = ""
        for _ in 0..<500 where !page.contains("data-download=\"org/slow\"") {
            page = web.call(.get, "/models").text
            if !page.contains("data-download=\"org/slow\"") { usleep(10_000) }
        }
        // Running: the badge and the start time the page's script counts from.
        let slow = try #require(page.range(of: "data-download=\"org/slow\"")).upperBound
        let row = String(page[slow...].prefix(400))
        #expect(row.contains("<span class=\"badge s-running\">running</span>"), "\(row)")
        #expect(row.contains("data-elapsed-since=\"20"), "\(row)")
        #expect(answered.withLock { $0 } == false)
        // Failed: the error beside it; the hostile id is text.
        #expect(page.contains("<span class=\"badge s-failed\">failed</span>"))
        #expect(page.contains("Devon answered HTTP 500"))
        #expect(page.contains("org/&lt;img src=x onerror=alert(1)&gt;"))
        #expect(!page.contains("<img src=x"))
        // The page listens for download events.
        #expect(page.contains("data-live=\"model_download\""))

        release.signal()
        #expect(waitFor { answered.withLock { $0 } })
        let done = web.call(.get, "/models").text
        #expect(done.contains("<span class=\"badge s-completed\">completed</span>"))
        #expect(done.contains("/models/org/slow"))
    }

    func waitFor(_ condition: () -> Bool) -> Bool {
        for _ in 0..<500 {
            if condition() { return true }
            usleep(10_000)
        }
        return condition()
    }
}
