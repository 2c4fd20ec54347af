#if canImport(Glibc)
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
        guard case .deferred(let start) = response.body else { return response }
        let slot = Mutex<HTTPResponse?>(nil)
        let done = DispatchSemaphore(value: 0)
        start(
            ResponsePromise { value in
                slot.withLock { $0 = value }
                done.signal()
            })
        if done.wait(timeout: .now() + 10) == .timedOut { return .error(.internalServerError, "deferred timed out") }
        return slot.withLock { $0 } ?? .error(.internalServerError, "no response")
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

/// SHA-256 for test fixtures (agents' token hashes), independent of the server's.
func sha256Hex(_ message: [UInt8]) -> String {
    let k: [UInt32] = [
        0x428a2f98, 0x71374491, 0xb5c0fbcf, 0xe9b5dba5, 0x3956c25b, 0x59f111f1, 0x923f82a4, 0xab1c5ed5,
        0xd807aa98, 0x12835b01, 0x243185be, 0x550c7dc3, 0x72be5d74, 0x80deb1fe, 0x9bdc06a7, 0xc19bf174,
        0xe49b69c1, 0xefbe4786, 0x0fc19dc6, 0x240ca1cc, 0x2de92c6f, 0x4a7484aa, 0x5cb0a9dc, 0x76f988da,
        0x983e5152, 0xa831c66d, 0xb00327c8, 0xbf597fc7, 0xc6e00bf3, 0xd5a79147, 0x06ca6351, 0x14292967,
        0x27b70a85, 0x2e1b2138, 0x4d2c6dfc, 0x53380d13, 0x650a7354, 0x766a0abb, 0x81c2c92e, 0x92722c85,
        0xa2bfe8a1, 0xa81a664b, 0xc24b8b70, 0xc76c51a3, 0xd192e819, 0xd6990624, 0xf40e3585, 0x106aa070,
        0x19a4c116, 0x1e376c08, 0x2748774c, 0x34b0bcb5, 0x391c0cb3, 0x4ed8aa4a, 0x5b9cca4f, 0x682e6ff3,
        0x748f82ee, 0x78a5636f, 0x84c87814, 0x8cc70208, 0x90befffa, 0xa4506ceb, 0xbef9a3f7, 0xc67178f2,
    ]
    var h: [UInt32] = [0x6a09e667, 0xbb67ae85, 0x3c6ef372, 0xa54ff53a, 0x510e527f, 0x9b05688c, 0x1f83d9ab, 0x5be0cd19]
    var data = message
    let bits = UInt64(message.count) * 8
    data.append(0x80)
    while data.count % 64 != 56 { data.append(0) }
    for i in (0..<8).reversed() { data.append(UInt8((bits >> (UInt64(i) * 8)) & 0xff)) }
    func r(_ x: UInt32, _ n: UInt32) -> UInt32 { x >> n | x << (32 - n) }
    for chunk in stride(from: 0, to: data.count, by: 64) {
        var w = [UInt32](repeating: 0, count: 64)
        for i in 0..<16 {
            for j in 0..<4 { w[i] = w[i] << 8 | UInt32(data[chunk + i * 4 + j]) }
        }
        for i in 16..<64 {
            w[i] = w[i - 16] &+ (r(w[i - 15], 7) ^ r(w[i - 15], 18) ^ w[i - 15] >> 3) &+ w[i - 7]
                &+ (r(w[i - 2], 17) ^ r(w[i - 2], 19) ^ w[i - 2] >> 10)
        }
        var v = h
        for i in 0..<64 {
            let t1 = v[7] &+ (r(v[4], 6) ^ r(v[4], 11) ^ r(v[4], 25)) &+ (v[4] & v[5] ^ ~v[4] & v[6]) &+ k[i] &+ w[i]
            let t2 = (r(v[0], 2) ^ r(v[0], 13) ^ r(v[0], 22)) &+ (v[0] & v[1] ^ v[0] & v[2] ^ v[1] & v[2])
            v = [t1 &+ t2, v[0], v[1], v[2], v[3] &+ t1, v[4], v[5], v[6]]
        }
        for i in 0..<8 { h[i] = h[i] &+ v[i] }
    }
    return h.map { word in
        let hex = String(word, radix: 16)
        return String(repeating: "0", count: 8 - hex.count) + hex
    }.joined()
}
