import Foundation
import KittHTTP
import KittJSON
import KittNet
import KittTestSupport
import Synchronization
import Testing

@testable import KittAPI

/// The model endpoints against a fake Devon in the test process.
@Suite(.serialized) struct ModelsDevonTests {
    static let searchBody = """
        {"results": [
          {"model_id": "Qwen/Qwen2.5-7B", "model_name": "Qwen2.5 7B", "source": "huggingface",
           "total_size_bytes": 16106127360, "downloads": 1234},
          {"model_id": "org/tiny", "source": "huggingface", "total_size_bytes": 0, "downloads": 0}
        ]}
        """

    @Test func searchValidatesBeforeAskingDevon() throws {
        let offline = try ModelsRig()
        #expect(offline.call(.get, "/api/v1/models/search").status == 400)
        #expect(offline.call(.get, "/api/v1/models/search?q=").status == 400)
        let unconfigured = offline.call(.get, "/api/v1/models/search?q=llama")
        #expect(unconfigured.status == 503)
        #expect(unconfigured.errorMessage?.contains("Devon") == true)
        #expect(offline.call(.get, "/api/v1/models/search?q=llama&limit=ten").status == 400)
        #expect(offline.call(.get, "/api/v1/models/search?q=llama&limit=0").status == 400)
    }

    @Test func searchMapsDevonResultsAndSendsTheBearer() throws {
        let devon = try FakeHTTPServer { _ in .json(200, ModelsDevonTests.searchBody) }
        defer { devon.stop() }
        let rig = try ModelsRig(devonURL: devon.url + "/")
        let response = rig.call(.get, "/api/v1/models/search?q=llama+3&limit=5")
        #expect(response.status == 200)
        let items = try #require(response.json?["items"]?.arrayValue)
        #expect(response.json?["total"]?.intValue == 2)
        #expect(items.count == 2)
        #expect(items[0]["repo_id"]?.stringValue == "Qwen/Qwen2.5-7B")
        #expect(items[0]["name"]?.stringValue == "Qwen2.5 7B")
        #expect(items[0]["source"]?.stringValue == "huggingface")
        #expect(items[0]["size_gb"]?.doubleValue == 15.0)
        #expect(items[0]["downloads"]?.intValue == 1234)
        #expect(items[1]["name"]?.stringValue == "org/tiny")

        let seen = try #require(devon.requests.first)
        #expect(seen.method == "GET")
        #expect(seen.target == "/api/v1/search?query=llama%203&limit=5")
        #expect(seen.headers["authorization"] == "Bearer devon-secret")
    }

    @Test func devonFailuresAre502() throws {
        let failing = try FakeHTTPServer { _ in .json(500, "{\"detail\":\"boom\"}") }
        defer { failing.stop() }
        let garbage = try FakeHTTPServer { _ in .json(200, "<html>not json") }
        defer { garbage.stop() }
        let wrongShape = try FakeHTTPServer { _ in .json(200, "{\"results\": 3}") }
        defer { wrongShape.stop() }
        let missing = try FakeHTTPServer { _ in .json(404, "{}") }
        defer { missing.stop() }
        for url in [failing.url, garbage.url, wrongShape.url, missing.url] {
            let rig = try ModelsRig(devonURL: url)
            let response = rig.call(.get, "/api/v1/models/search?q=x")
            #expect(response.status == 502, "\(url): \(response)")
            #expect(response.errorMessage?.contains("Devon") == true)
            #expect(rig.call(.get, "/api/v1/models/local").status == 502)
        }
    }

    @Test func unreachableDevonIs502() throws {
        let fd = try Socket.listen(host: "127.0.0.1", port: 0)
        let port = Socket.localPort(fd)
        close(fd)
        let rig = try ModelsRig(devonURL: "http://127.0.0.1:\(port)")
        let response = rig.call(.get, "/api/v1/models/search?q=x")
        #expect(response.status == 502)
        #expect(response.errorMessage?.contains("unreachable") == true)
    }

    @Test func slowDevonTimesOutWithoutBlockingTheHandler() throws {
        let devon = try FakeHTTPServer { _ in .hang }
        defer { devon.stop() }
        let rig = try ModelsRig(devonURL: devon.url, devonTimeout: 0.5)
        var headers = HTTPHeaders()
        headers.add(name: "Host", value: "localhost")
        let started = Date()
        let immediate = rig.router.respond(
            to: HTTPRequest(method: .get, target: "/api/v1/models/search?q=x", headers: headers))
        // The handler returns at once; the Devon call runs elsewhere.
        #expect(Date().timeIntervalSince(started) < 0.3)
        guard case .deferred = immediate.body else {
            Issue.record("expected a deferred response")
            return
        }
        let response = ModelsRig.resolve(immediate)
        #expect(response.status == 502)
        #expect(response.errorMessage?.contains("timed out") == true)
        #expect(Date().timeIntervalSince(started) < 5)
    }

    @Test func localModelsComeFromDevonWithManifestFormats() throws {
        let devon = try FakeHTTPServer { request in
            request.target == "/api/v1/models"
                ? .json(
                    200,
                    #"{"models": [{"source": "huggingface", "model_id": "org/m", "path": "/data/org/m", "size_bytes": 2147483648}]}"#
                )
                : .json(404, "{}")
        }
        defer { devon.stop() }
        let rig = try ModelsRig(devonURL: devon.url)
        try
            #"{"huggingface::org/m": {"path": "/data/org/m", "source": "huggingface", "size_bytes": 1, "metadata": {"format": ["gguf"]}}}"#
            .write(toFile: rig.modelDirectory + "/manifest.json", atomically: false, encoding: .utf8)
        let response = rig.call(.get, "/api/v1/models/local")
        #expect(response.status == 200)
        let item = try #require(response.json?["items"]?.arrayValue?.first)
        #expect(item["name"]?.stringValue == "org/m")
        #expect(item["path"]?.stringValue == "/data/org/m")
        #expect(item["size_gb"]?.doubleValue == 2.0)
        #expect(item["formats"]?.arrayValue == ["gguf"])
    }

    @Test func downloadChecksAuthAndBodyThenAsksDevon() throws {
        let devon = try FakeHTTPServer { request in
            request.method == "POST" && request.target == "/api/v1/downloads"
                ? .json(200, #"{"path": "/models/org/m"}"#) : .json(404, "{}")
        }
        defer { devon.stop() }
        let rig = try ModelsRig(devonURL: devon.url)
        let body: JSON = ["repo_id": "org/m", "allow_patterns": ["*.gguf"]]
        #expect(rig.call(.post, "/api/v1/models/download", json: body).status == 401)
        #expect(rig.call(.post, "/api/v1/models/download", json: body, token: "wrong").status == 403)
        #expect(rig.admin(.post, "/api/v1/models/download", json: ["allow_patterns": ["x"]]).status == 400)
        #expect(rig.admin(.post, "/api/v1/models/download", json: ["repo_id": 5]).status == 400)
        #expect(rig.admin(.post, "/api/v1/models/download", json: ["repo_id": "../etc"]).status == 400)
        #expect(devon.requests.isEmpty)

        let response = rig.admin(.post, "/api/v1/models/download", json: body)
        #expect(response.status == 202)
        #expect(response.json?["path"]?.stringValue == "/models/org/m")
        let seen = try #require(devon.requests.first)
        #expect(seen.headers["authorization"] == "Bearer devon-secret")
        let sent = try JSON(parsing: seen.body)
        #expect(sent["model_id"]?.stringValue == "org/m")
        #expect(sent["source"]?.stringValue == "huggingface")
        #expect(sent["include_patterns"]?.arrayValue == ["*.gguf"])

        let offline = try ModelsRig()
        #expect(offline.admin(.post, "/api/v1/models/download", json: body).status == 503)
    }

    @Test func deleteGoesThroughDevon() throws {
        let devon = try FakeHTTPServer { request in
            switch request.target {
            case "/api/v1/models/huggingface/org/m": return .json(200, #"{"deleted": true}"#)
            case "/api/v1/models/huggingface/org/refused": return .json(200, #"{"deleted": false}"#)
            case "/api/v1/models/huggingface/org/broken": return .json(500, "{}")
            default: return .json(404, #"{"detail": "not found"}"#)
            }
        }
        defer { devon.stop() }
        let rig = try ModelsRig(devonURL: devon.url)
        #expect(rig.call(.delete, "/api/v1/models/org/m").status == 401)
        let deleted = rig.admin(.delete, "/api/v1/models/org/m")
        #expect(deleted.status == 200)
        #expect(deleted.json?["deleted"]?.boolValue == true)
        #expect(devon.requests.last?.method == "DELETE")
        #expect(rig.admin(.delete, "/api/v1/models/org/unknown").status == 404)
        #expect(rig.admin(.delete, "/api/v1/models/org/refused").status == 404)
        #expect(rig.admin(.delete, "/api/v1/models/org/broken").status == 502)
        let before = devon.requests.count
        #expect(rig.admin(.delete, "/api/v1/models/org/%2e%2e/%2e%2e/etc").status == 400)
        #expect(devon.requests.count == before)
    }
}

/// Downloads report their state while Devon works: running, then completed or failed, in
/// `GET /models/downloads` and as `model_download` events.
@Suite(.serialized) struct ModelDownloadProgressTests {
    @Test func aDownloadIsRunningUntilDevonAnswersThenCompleted() throws {
        let release = DispatchSemaphore(value: 0)
        let devon = try FakeHTTPServer { request in
            guard request.method == "POST" && request.target == "/api/v1/downloads" else { return .json(404, "{}") }
            let sent = try? JSON(parsing: request.body)
            if sent?["model_id"]?.stringValue == "org/broken" { return .json(500, "{}") }
            release.wait()
            return .json(200, #"{"path": "/models/org/m"}"#)
        }
        defer { devon.stop() }
        defer { release.signal() }  // never leave the fake server's thread waiting
        let rig = try ModelsRig(devonURL: devon.url)
        let events = Mutex<[(String, JSON)]>([])
        rig.harness.context.events.observe { event in
            guard event.type == "model_download" else { return }
            let data = (try? JSON(parsing: Array(event.frame[event.dataStart...]))) ?? .null
            events.withLock { $0.append((event.type, data)) }
        }
        #expect(rig.call(.get, "/api/v1/models/downloads").json?["total"]?.intValue == 0)

        let answered = Mutex<TestResponse?>(nil)
        DispatchQueue.global().async {
            let response = rig.admin(.post, "/api/v1/models/download", json: ["repo_id": "org/m"])
            answered.withLock { $0 = response }
        }
        // Devon has the request and has not answered: the download shows as running.
        #expect(waitUntil { !devon.requests.isEmpty })
        let running = try #require(rig.call(.get, "/api/v1/models/downloads").json?["items"]?.arrayValue?.first)
        #expect(running["repo_id"]?.stringValue == "org/m" && running["status"]?.stringValue == "running")
        #expect(running["source"]?.stringValue == "huggingface")
        #expect(running["started_at"]?.stringValue != nil && running["path"] == nil)
        #expect(answered.withLock { $0 } == nil)

        release.signal()
        #expect(waitUntil { answered.withLock { $0 }?.status == 202 })
        let done = try #require(rig.call(.get, "/api/v1/models/downloads").json?["items"]?.arrayValue?.first)
        #expect(done["status"]?.stringValue == "completed" && done["path"]?.stringValue == "/models/org/m")
        #expect(done["finished_at"]?.stringValue != nil)

        // A download Devon refuses ends failed, with the error the POST answered.
        let failed = rig.admin(.post, "/api/v1/models/download", json: ["repo_id": "org/broken"])
        #expect(failed.status == 502)
        let items = try #require(rig.call(.get, "/api/v1/models/downloads").json?["items"]?.arrayValue)
        #expect(items.map { $0["repo_id"]?.stringValue } == ["org/broken", "org/m"])
        #expect(items[0]["status"]?.stringValue == "failed")
        #expect(items[0]["error"]?.stringValue == failed.errorMessage)

        let seen = events.withLock { $0.map { "\($0.1["repo_id"]?.stringValue ?? "?") \($0.1["status"]?.stringValue ?? "?")" } }
        #expect(seen == ["org/m running", "org/m completed", "org/broken running", "org/broken failed"])
    }
}
