import KittAPI
import KittHTTP
import KittJSON
import KittNet
import KittStore

/// What the quick test, campaign, engine and event tests need beyond requests: their
/// settings, agents inserted directly, and event streams recorded in process.
extension APIHarness {
    /// The setup these tests were written against: `synchronous=NORMAL`, no model or config
    /// directory (the built-in engine catalog), the default public URL, and a quick test
    /// timeout of `quickTestTimeout` seconds.
    public static func control(quickTestTimeout: Double = 1800) throws -> APIHarness {
        try APIHarness(synchronous: .normal) { settings in
            let defaults = APISettings()
            settings.modelDirectory = defaults.modelDirectory
            settings.configDirectory = defaults.configDirectory
            settings.publicURL = defaults.publicURL
            settings.quickTestTimeoutSeconds = quickTestTimeout
        }
    }

    /// Closes the store now rather than when the harness goes away (a test that stops a
    /// campaign runner first, or that must not outlive its store, ends with it).
    public func close() { store.close() }

    /// Inserts an agent row (without the registration flow); returns its id. `token`: the
    /// agent's bearer token, stored hashed as registration stores it.
    @discardableResult
    public func addAgent(name: String, cpuArch: String = "x86_64", token: String? = nil) throws -> String {
        let id = StoreID.make()
        let hash = token.map { SHA256.hex(Array($0.utf8)) }
        let now = Timestamp.now()
        try store.database.write { conn in
            try conn.run(
                "INSERT INTO agents (id, name, cpu_arch, token_hash, registered_at, updated_at) VALUES (?, ?, ?, ?, ?, ?)",
                [.text(id), .text(name), .text(cpuArch), hash.map { .text($0) } ?? .null, .text(now), .text(now)])
        }
        return id
    }

    /// Subscribes a recording stream through the SSE route (optionally filtered / resuming).
    public func subscribe(source: String? = nil, lastEventID: Int? = nil, refusing: Bool = false, capacity: Int = Int.max)
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
