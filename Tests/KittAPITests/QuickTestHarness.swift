#if canImport(Glibc)
import KittTestSupport
import Glibc
#endif
import Dispatch
import KittAPI
import KittHTTP
import KittJSON
import KittNet
import KittStore
import Synchronization

/// The quick test, campaign and event tests' view of `APIHarness` (same temp dir, store and
/// router, and the same reply type): `synchronous=NORMAL`, the built-in engine catalog, `reopen`
/// for restarts, and tokens named as `.admin`, `.none` or `.raw`.
final class ControlHarness {
    let api: APIHarness
    var directory: String { api.directory.path }
    var databasePath: String { api.databasePath }
    var store: Store { api.store }
    var context: APIContext { api.context }
    var router: Router { api.router }
    /// The campaign runner the API's services wake (not started: tests start and stop it).
    var runner: CampaignRunner { api.services.runner }
    var token: String { api.token }
    var settings: APISettings { api.settings }

    init(timeout: Double = 1800) throws {
        api = try APIHarness(token: "admin-token-for-tests", synchronous: .normal) { settings in
            // What these tests were written against: APISettings' defaults but the timeout.
            let defaults = APISettings()
            settings.modelDirectory = defaults.modelDirectory
            settings.configDirectory = defaults.configDirectory
            settings.publicURL = defaults.publicURL
            settings.quickTestTimeoutSeconds = timeout
        }
    }

    /// Closes the store and opens the same file again (what a server restart looks like).
    func reopen() throws { try api.reopen() }

    func close() { store.close() }

    typealias Reply = TestResponse

    enum Token { case admin, none, raw(String) }

    /// Calls the router (JSON bodies get JSON's Content-Type); deferred responses are awaited.
    func call(_ method: HTTPMethod, _ target: String, json: JSON? = nil, body: String? = nil, token: Token = .admin)
        -> Reply
    {
        var bytes: [UInt8] = []
        if let json { bytes = json.serialized() } else if let body { bytes = Array(body.utf8) }
        let bearer: String?
        switch token {
        case .admin: bearer = self.token
        case .raw(let value): bearer = value
        case .none: bearer = nil
        }
        return api.call(
            method, target, body: bytes, token: bearer, headers: bytes.isEmpty ? [] : [("Content-Type", "application/json")])
    }

    /// Inserts an agent row (the agents feature is elsewhere); returns its id.
    @discardableResult
    func addAgent(name: String, cpuArch: String = "x86_64", token: String? = nil) throws -> String {
        let id = StoreID.make()
        let hash = token.map { sha256Hex(Array($0.utf8)) }
        let now = Timestamp.now()
        try store.database.write { conn in
            try conn.run(
                "INSERT INTO agents (id, name, cpu_arch, token_hash, registered_at, updated_at) VALUES (?, ?, ?, ?, ?, ?)",
                [.text(id), .text(name), .text(cpuArch), hash.map { .text($0) } ?? .null, .text(now), .text(now)])
        }
        return id
    }

    /// Subscribes a recording stream through the SSE route (optionally filtered / resuming).
    func subscribe(source: String? = nil, lastEventID: Int? = nil, refusing: Bool = false, capacity: Int = Int.max)
        -> RecordingStream
    {
        var headers = HTTPHeaders()
        headers.add(name: "Host", value: "localhost")
        if let lastEventID { headers.add(name: "Last-Event-ID", value: String(lastEventID)) }
        let target = source.map { "/api/v1/events/stream/\($0)" } ?? "/api/v1/events/stream"
        let response = router.respond(to: HTTPRequest(method: .get, target: target, headers: headers))
        let stream = RecordingStream(refusing: refusing, capacity: capacity)
        if case .stream(let start) = response.body { start(stream) }
        return stream
    }
}

struct HarnessError: Error, CustomStringConvertible {
    let description: String
    init(_ description: String) { self.description = description }
}

/// A ResponseStream that records what it is sent; `refusing` models a reader whose backlog
/// overflowed (every send fails).
final class RecordingStream: ResponseStream {
    struct Frame: Equatable {
        let id: Int
        let type: String
        let data: JSON
    }

    private let state = Mutex<(bytes: [UInt8], closed: Bool, handlers: [@Sendable () -> Void], sends: Int)>(
        ([], false, [], 0))
    let refusing: Bool
    /// Like a connection's bounded backlog: past this many bytes the stream closes itself
    /// (asynchronously, as a real connection does) and refuses.
    let capacity: Int

    init(refusing: Bool = false, capacity: Int = Int.max) {
        self.refusing = refusing
        self.capacity = capacity
    }

    func send(_ bytes: [UInt8]) -> Bool {
        let overflowed = state.withLock { state -> Bool? in
            state.sends += 1
            guard !state.closed, !refusing else { return nil }
            if state.bytes.count + bytes.count > capacity {
                state.closed = true
                return true
            }
            state.bytes.append(contentsOf: bytes)
            return false
        }
        if overflowed == true {
            let handlers = state.withLock { state -> [@Sendable () -> Void] in
                defer { state.handlers = [] }
                return state.handlers
            }
            DispatchQueue.global().async { for handler in handlers { handler() } }
        }
        return overflowed == false
    }

    var isClosed: Bool { state.withLock { $0.closed } }

    func close() {
        let handlers = state.withLock { state -> [@Sendable () -> Void] in
            state.closed = true
            defer { state.handlers = [] }
            return state.handlers
        }
        for handler in handlers { handler() }
    }

    func onClose(_ handler: @escaping @Sendable () -> Void) {
        let runNow = state.withLock { state -> Bool in
            if state.closed { return true }
            state.handlers.append(handler)
            return false
        }
        if runNow { handler() }
    }

    var sendCount: Int { state.withLock { $0.sends } }
    var text: String { String(decoding: state.withLock { $0.bytes }, as: UTF8.self) }

    /// The `id:/event:/data:` frames received so far (comments skipped).
    var frames: [Frame] {
        var frames: [Frame] = []
        for block in text.split(separator: "\n\n", omittingEmptySubsequences: true) {
            var id: Int?
            var type = ""
            var data: JSON = .null
            for line in block.split(separator: "\n") {
                if line.hasPrefix("id: ") { id = Int(line.dropFirst(4)) }
                if line.hasPrefix("event: ") { type = String(line.dropFirst(7)) }
                if line.hasPrefix("data: ") { data = (try? JSON(parsing: Array(line.dropFirst(6).utf8))) ?? .null }
            }
            if let id { frames.append(Frame(id: id, type: type, data: data)) }
        }
        return frames
    }
}

/// Polls `condition` until it holds or `seconds` pass (tests only).
@discardableResult
func waitUntil(_ seconds: Double = 5, _ condition: () throws -> Bool) rethrows -> Bool {
    let deadline = DispatchTime.now().uptimeNanoseconds + UInt64(seconds * 1e9)
    while DispatchTime.now().uptimeNanoseconds < deadline {
        if try condition() { return true }
        usleep(5_000)
    }
    return try condition()
}

/// SHA-256 hex for fixtures (agents' token hashes); KittNet's is checked against the FIPS vectors.
func sha256Hex(_ message: [UInt8]) -> String {
    SHA256.hex(message)
}
