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

/// `APIHarness.control()` as the older quick test, campaign and agent tests call it:
/// `call(_:_:json:body:token:)` with tokens named `.admin`, `.none` or `.raw`. New tests use
/// `APIHarness.control()` and `APIClient.execute` (`admin: false` for no token, `token:` for
/// another one), which the end-to-end client shares.
final class ControlHarness: APIClient {
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
        api = try APIHarness.control(quickTestTimeout: timeout)
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

    var adminToken: String { api.adminToken }

    /// `APIClient`: a test still on this shim can move to `execute` call by call.
    func execute(_ method: HTTPMethod, _ target: String, headers: [(String, String)], body: [UInt8], token: String?)
        throws -> TestResponse
    {
        try api.execute(method, target, headers: headers, body: body, token: token)
    }

    @discardableResult
    func addAgent(name: String, cpuArch: String = "x86_64", token: String? = nil) throws -> String {
        try api.addAgent(name: name, cpuArch: cpuArch, token: token)
    }

    func subscribe(source: String? = nil, lastEventID: Int? = nil, refusing: Bool = false, capacity: Int = Int.max)
        -> RecordingStream
    {
        api.subscribe(source: source, lastEventID: lastEventID, refusing: refusing, capacity: capacity)
    }
}

struct HarnessError: Error, CustomStringConvertible {
    let description: String
    init(_ description: String) { self.description = description }
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
