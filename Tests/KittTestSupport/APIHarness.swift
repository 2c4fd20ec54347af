import Dispatch
import KittAPI
import KittHTTP
import KittJSON
import KittSQLite
import KittStore

/// The real router, store and event bus in process, without sockets: API tests call handlers
/// exactly as the server would, and wait for deferred responses.
///
/// `@unchecked Sendable`: `reopen` (the only mutation) is called by the test between requests.
public final class APIHarness: @unchecked Sendable {
    public let directory = TempDirectory("kitt-api")
    public var databasePath: String { directory.path + "/kitt.db" }
    public private(set) var store: Store
    public private(set) var context: APIContext
    public private(set) var router: Router
    /// Built with the router; tests that need campaigns to run start (and stop) its runner.
    public private(set) var services: Services
    public let settings: APISettings
    public let token: String
    /// The Host header every request carries.
    public let host: String
    private let synchronous: Synchronous

    public init(
        token: String = "test-admin-token", host: String = "localhost", synchronous: Synchronous = .full,
        configure: (inout APISettings) -> Void = { _ in }
    ) throws {
        self.token = token
        self.host = host
        self.synchronous = synchronous
        var settings = APISettings()
        settings.dataDirectory = directory.path
        settings.modelDirectory = directory.path + "/models"
        settings.configDirectory = APIHarness.repositoryRoot + "/Config"
        settings.publicURL = "https://localhost:8443"
        configure(&settings)
        self.settings = settings
        store = try Store(path: directory.path + "/kitt.db", synchronous: synchronous)
        context = APIContext(settings: settings, auth: Auth(adminToken: token), store: store, events: EventBus())
        services = Services(context: context)
        router = Routes.makeRouter(context: context, services: services)
    }

    /// Closes the store and opens the same file again with a fresh context, bus, services and router
    /// (what a server restart looks like to the API).
    public func reopen() throws {
        store.close()
        store = try Store(path: databasePath, synchronous: synchronous)
        context = APIContext(settings: settings, auth: Auth(adminToken: token), store: store, events: EventBus())
        services = Services(context: context)
        router = Routes.makeRouter(context: context, services: services)
    }

    deinit { store.close() }

    /// The repository root, found from this source file's path (for Config/).
    public static var repositoryRoot: String {
        var path = #filePath
        for _ in 0..<3 {
            if let slash = path.lastIndex(of: "/") { path = String(path[..<slash]) }
        }
        return path
    }

    /// Calls the router. `token: nil` sends no Authorization header.
    public func call(
        _ method: HTTPMethod, _ target: String, json: JSON? = nil, body: [UInt8]? = nil,
        token: String? = nil, headers: [(String, String)] = []
    ) -> TestResponse {
        var fields = HTTPHeaders()
        fields.add(name: "Host", value: host)
        if let token { fields.add(name: "Authorization", value: "Bearer \(token)") }
        for (name, value) in headers { fields.add(name: name, value: value) }
        let payload = body ?? json?.serialized() ?? []
        let request = HTTPRequest(method: method, target: target, headers: fields, body: payload)
        return APIHarness.resolve(router.respond(to: request), isHead: method == .head)
    }

    /// Same as `call` with the admin token.
    public func admin(_ method: HTTPMethod, _ target: String, json: JSON? = nil) -> TestResponse {
        call(method, target, json: json, token: token)
    }

    /// Waits (bounded) for a deferred response, nested ones too; other bodies come back as they are.
    /// Generous: handlers now run off the loop as deferred responses, and some (the first
    /// agent bundle build: tar + gzip + SHA-256 of the test binary) take long on a loaded machine.
    public static func settle(_ response: HTTPResponse, timeout: Double = 120) -> HTTPResponse {
        guard case .deferred(let start) = response.body else { return response }
        let box = ResultBox()
        let done = DispatchSemaphore(value: 0)
        start(ResponsePromise { later in
            box.set(later)
            done.signal()
        })
        guard done.wait(timeout: .now() + timeout) == .success, let later = box.get() else {
            return .error(.internalServerError, "deferred response timed out")
        }
        return settle(later, timeout: timeout)
    }

    /// `settle`, as a TestResponse (HEAD: no body).
    public static func resolve(_ response: HTTPResponse, isHead: Bool = false) -> TestResponse {
        let final = settle(response)
        return TestResponse(status: final.status.code, headers: final.headers, body: isHead ? [] : final.bodyBytes)
    }
}

private final class ResultBox: @unchecked Sendable {
    // Written once before the semaphore is signalled, read after waiting on it.
    private var value: HTTPResponse?
    func set(_ response: HTTPResponse) { value = response }
    func get() -> HTTPResponse? { value }
}
