import KittJSON
import Synchronization

/// What a handler returns. Most responses are bytes; SSE streams and responses that wait
/// for a group commit use the other two bodies, so no handler ever blocks its connection.
public struct HTTPResponse: Sendable {
    public enum Body: Sendable {
        /// A complete body, sent with its Content-Length.
        case bytes([UInt8])
        /// A long-lived body (Server-Sent Events): the head goes out at once, then the
        /// closure receives the stream and keeps it for as long as it likes.
        case stream(@Sendable (any ResponseStream) -> Void)
        /// The response is produced later (e.g. after a durable write); the closure gets
        /// the promise to fulfil from any thread. Pipelined requests behind it wait.
        case deferred(@Sendable (ResponsePromise) -> Void)
    }

    public var status: HTTPStatus
    public var headers: HTTPHeaders
    public var body: Body
    /// Set by the router: the index of the matched route pattern (`Router.patterns`); nil when
    /// no route matched. Metrics and logs label requests by pattern through it.
    public var matchedRoute: Int?

    public init(status: HTTPStatus = .ok, headers: HTTPHeaders = HTTPHeaders(), body: Body = .bytes([])) {
        self.status = status
        self.headers = headers
        self.body = body
    }

    /// A JSON response: `Content-Type: application/json`.
    public static func json(_ value: JSON, status: HTTPStatus = .ok) -> HTTPResponse {
        var bytes: [UInt8] = []
        bytes.reserveCapacity(256)
        value.write(into: &bytes)
        return jsonBytes(bytes, status: status)
    }

    /// Pre-serialized JSON bytes.
    public static func jsonBytes(_ bytes: [UInt8], status: HTTPStatus = .ok) -> HTTPResponse {
        var headers = HTTPHeaders()
        headers.add(name: "Content-Type", value: "application/json")
        return HTTPResponse(status: status, headers: headers, body: .bytes(bytes))
    }

    public static func text(_ text: String, contentType: String = "text/plain; charset=utf-8", status: HTTPStatus = .ok)
        -> HTTPResponse
    {
        data(Array(text.utf8), contentType: contentType, status: status)
    }

    public static func data(_ bytes: [UInt8], contentType: String, status: HTTPStatus = .ok) -> HTTPResponse {
        var headers = HTTPHeaders()
        headers.add(name: "Content-Type", value: contentType)
        return HTTPResponse(status: status, headers: headers, body: .bytes(bytes))
    }

    /// The contract's error shape: `{"error": "..."}`.
    public static func error(_ status: HTTPStatus, _ message: String) -> HTTPResponse {
        json(["error": .string(message)], status: status)
    }

    /// A response that waits for `start` to fulfil the promise.
    public static func deferred(_ start: @escaping @Sendable (ResponsePromise) -> Void) -> HTTPResponse {
        HTTPResponse(body: .deferred(start))
    }

    /// The body bytes when the body is `.bytes` (tests and the access log use this).
    public var bodyBytes: [UInt8] {
        if case .bytes(let bytes) = body { return bytes }
        return []
    }
}

/// The server side of a streaming response, implemented by the connection.
public protocol ResponseStream: AnyObject, Sendable {
    /// Queues bytes for the peer. Never blocks. Returns false when the stream is closed, or
    /// when its bounded queue overflowed (the stream is then closed: a slow reader is dropped).
    @discardableResult func send(_ bytes: [UInt8]) -> Bool
    /// Ends the stream and closes the connection.
    func close()
    /// Runs `handler` once when the stream ends for any reason (immediately if it already has).
    func onClose(_ handler: @escaping @Sendable () -> Void)
}

/// A one-shot slot for a deferred response. Fulfilling it twice is ignored.
public final class ResponsePromise: Sendable {
    private let deliver: @Sendable (HTTPResponse) -> Void
    private let fulfilled = Atomic<Bool>(false)

    public init(_ deliver: @escaping @Sendable (HTTPResponse) -> Void) {
        self.deliver = deliver
    }

    public func succeed(_ response: HTTPResponse) {
        guard !fulfilled.exchange(true, ordering: .acquiringAndReleasing) else { return }
        deliver(response)
    }

    /// Renders an error the way the router does for a thrown error.
    public func fail(_ error: any Error) {
        succeed(HTTPError.response(for: error))
    }
}
