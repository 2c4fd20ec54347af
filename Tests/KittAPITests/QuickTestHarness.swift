#if canImport(Glibc)
import KittTestSupport
import Glibc
#endif
import Dispatch
import KittAPI
import KittHTTP
import KittJSON
import KittStore
import Synchronization

/// In-process harness for the quick test, campaign and event tests: a store in a temp dir,
/// an APIContext and the real router, called without a socket.
final class ControlHarness {
    let directory: String
    let databasePath: String
    private(set) var store: Store
    private(set) var context: APIContext
    private(set) var router: Router
    let token = "admin-token-for-tests"
    let settings: APISettings

    init(timeout: Double = 1800, directory: String? = nil) throws {
        if let directory {
            self.directory = directory
        } else {
            var template = Array("/tmp/kitt-control-XXXXXX".utf8CString)
            guard let made = mkdtemp(&template) else { throw HarnessError("mkdtemp failed") }
            self.directory = String(cString: made)
        }
        databasePath = self.directory + "/kitt.db"
        var settings = APISettings()
        settings.dataDirectory = self.directory
        settings.quickTestTimeoutSeconds = timeout
        self.settings = settings
        store = try Store(path: databasePath, synchronous: .normal)
        context = APIContext(settings: settings, auth: Auth(adminToken: token), store: store, events: EventBus())
        router = Routes.makeRouter(context: context)
    }

    /// Closes the store and opens the same file again with a fresh context, bus and router
    /// (what a server restart looks like to the control plane).
    func reopen() throws {
        store.close()
        store = try Store(path: databasePath, synchronous: .normal)
        context = APIContext(settings: settings, auth: Auth(adminToken: token), store: store, events: EventBus())
        router = Routes.makeRouter(context: context)
    }

    func close() {
        store.close()
        _ = system("rm -rf '\(directory)'")
    }

    struct Reply {
        let status: Int
        let json: JSON
        let response: HTTPResponse
        var error: String? { json["error"]?.stringValue }
    }

    enum Token { case admin, none, raw(String) }

    /// Calls the router; deferred responses are awaited (with a deadline).
    func call(_ method: HTTPMethod, _ target: String, json: JSON? = nil, body: String? = nil, token: Token = .admin)
        -> Reply
    {
        var headers = HTTPHeaders()
        headers.add(name: "Host", value: "localhost")
        switch token {
        case .admin: headers.add(name: "Authorization", value: "Bearer \(self.token)")
        case .raw(let value): headers.add(name: "Authorization", value: "Bearer \(value)")
        case .none: break
        }
        var bytes: [UInt8] = []
        if let json { bytes = json.serialized() } else if let body { bytes = Array(body.utf8) }
        if !bytes.isEmpty { headers.add(name: "Content-Type", value: "application/json") }
        let request = HTTPRequest(method: method, target: target, headers: headers, body: bytes)
        let response = ControlHarness.resolve(router.respond(to: request))
        let parsed = (try? JSON(parsing: response.bodyBytes)) ?? .null
        return Reply(status: Int(response.status.code), json: parsed, response: response)
    }

    static func resolve(_ response: HTTPResponse) -> HTTPResponse {
        APIHarness.settle(response)  // bounded; every store route answers deferred now
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

/// SHA-256 hex for fixtures (agents' token hashes); KittStore's is checked against the FIPS vectors.
func sha256Hex(_ message: [UInt8]) -> String {
    SHA256.hex(message)
}
