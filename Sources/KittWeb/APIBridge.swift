import Dispatch
import KittHTTP
import KittJSON
import Synchronization

/// The UI reads and writes through the API's own handlers, in process: the same
/// validation, the same error text, the same auth rules (a page shows what the API serves
/// to its viewer). Store work stays off the event loop because the handlers already defer it.
struct APIBridge: Sendable {
    let api: Router
    let adminToken: String?

    /// One API answer as a page sees it.
    struct Answer: Sendable {
        let status: Int
        let json: JSON?

        var ok: Bool { (200..<300).contains(status) }
        var object: JSONObject? { ok ? json?.objectValue : nil }
        var items: [JSON] { object?["items"]?.arrayValue ?? [] }
        /// The API's `{"error": ...}` text, for failed answers.
        var error: String? { ok ? nil : json?["error"]?.stringValue ?? "HTTP \(status)" }
        var needsSignIn: Bool { status == 401 || status == 403 }
    }

    /// A request to an API target (`/api/v1/...`), as the admin when `asAdmin`.
    func request(_ method: HTTPMethod, _ target: String, body: [UInt8] = [], asAdmin: Bool, host: String?)
        -> HTTPRequest
    {
        var headers = HTTPHeaders()
        headers.add(name: "Host", value: host ?? "localhost")
        if !body.isEmpty || method != .get { headers.add(name: "Content-Type", value: "application/json") }
        if asAdmin, let adminToken { headers.add(name: "Authorization", value: "Bearer \(adminToken)") }
        return HTTPRequest(method: method, target: target, headers: headers, body: body)
    }

    /// Runs `request` through the API router; `completion` gets the response whenever the
    /// handler (or its deferred work) finishes.
    func respond(to request: HTTPRequest, completion: @escaping @Sendable (HTTPResponse) -> Void) {
        let response = api.respond(to: request)
        switch response.body {
        case .deferred(let start):
            start(ResponsePromise(completion))
        default:
            completion(response)
        }
    }

    /// A read a page makes: almost always a GET; compare is a POST with a body.
    struct Read: Sendable, ExpressibleByStringLiteral {
        let method: HTTPMethod
        let target: String
        let body: [UInt8]

        init(stringLiteral target: String) { self.init(get: target) }
        init(get target: String) { self.method = .get; self.target = target; self.body = [] }
        init(post target: String, _ body: JSON) { self.method = .post; self.target = target; self.body = body.serialized() }
    }

    /// Runs every read (concurrently) and hands the answers back in order.
    func readAll(_ reads: [Read], asAdmin: Bool, host: String?, completion: @escaping @Sendable ([Answer]) -> Void) {
        guard !reads.isEmpty else { return completion([]) }
        let state = Mutex<(answers: [Answer?], left: Int)>((Array(repeating: nil, count: reads.count), reads.count))
        for (index, read) in reads.enumerated() {
            respond(to: request(read.method, read.target, body: read.body, asAdmin: asAdmin, host: host)) { response in
                let answer = Answer(
                    status: response.status.code,
                    json: try? JSON(parsing: response.bodyBytes))
                let done = state.withLock { state -> [Answer]? in
                    state.answers[index] = answer
                    state.left -= 1
                    return state.left == 0 ? state.answers.compactMap { $0 } : nil
                }
                if let done { completion(done) }
            }
        }
    }
}
