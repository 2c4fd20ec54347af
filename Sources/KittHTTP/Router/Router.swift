/// A request handler: synchronous and quick. Slow work answers with `.deferred` or a stream.
public typealias Handler = @Sendable (HTTPRequest) throws -> HTTPResponse

/// Method + path-pattern routing. Build it with `add`, then hand it (a value, immutable from
/// then on) to the server. Patterns are literal segments, `:name` parameters and a trailing
/// `*name` wildcard that captures the rest of the path (slashes included).
///
/// The path is resolved before the method, so a known path with the wrong method gets 405
/// with an `Allow` header instead of 404. Trailing slashes are ignored, so `/results` and
/// `/results/` are the same route. Literal segments win over parameters.
public struct Router: Sendable {
    private var root = Node()
    /// Receives errors that were not `HTTPError`s (they become a bare 500), for logging.
    public var onUnexpectedError: (@Sendable (HTTPRequest, any Error) -> Void)?
    /// Applied to every handler added from now on (e.g. to run it off the event loop).
    public var wrapHandler: (@Sendable (@escaping Handler) -> Handler)?

    public init() {}

    public mutating func add(_ method: HTTPMethod, _ pattern: String, _ handler: @escaping Handler) {
        let segments = Router.split(pattern)
        root.insert(segments: segments[...], method: method, handler: wrapHandler.map { $0(handler) } ?? handler)
    }

    public mutating func get(_ pattern: String, _ handler: @escaping Handler) { add(.get, pattern, handler) }
    public mutating func post(_ pattern: String, _ handler: @escaping Handler) { add(.post, pattern, handler) }
    public mutating func put(_ pattern: String, _ handler: @escaping Handler) { add(.put, pattern, handler) }
    public mutating func patch(_ pattern: String, _ handler: @escaping Handler) { add(.patch, pattern, handler) }
    public mutating func delete(_ pattern: String, _ handler: @escaping Handler) { add(.delete, pattern, handler) }

    public enum Resolution {
        case found(Handler, parameters: [String: String])
        case methodNotAllowed(allowed: [HTTPMethod])
        case notFound
        case badPath
    }

    /// Finds the handler for a method and a raw (percent-encoded) path.
    public func resolve(method: HTTPMethod, path: String) -> Resolution {
        var decoded: [String] = []
        for raw in Router.split(path) {
            guard let segment = PercentEncoding.decode(raw) else { return .badPath }
            decoded.append(segment)
        }
        var parameters: [String: String] = [:]
        guard let node = root.match(decoded[...], parameters: &parameters) else { return .notFound }
        if let handler = node.handlers[method] {
            return .found(handler, parameters: parameters)
        }
        if method == .head, let handler = node.handlers[.get] {
            return .found(handler, parameters: parameters)
        }
        var allowed = Array(node.handlers.keys)
        if node.handlers[.get] != nil { allowed.append(.head) }
        return .methodNotAllowed(allowed: allowed.sorted { $0.rawValue < $1.rawValue })
    }

    /// Routes and runs the handler; every failure becomes a JSON error response.
    public func respond(to request: HTTPRequest) -> HTTPResponse {
        switch resolve(method: request.method, path: request.path) {
        case .found(let handler, let parameters):
            var request = request
            request.pathParameters = parameters
            do {
                return try handler(request)
            } catch let error as HTTPError {
                return error.response
            } catch {
                onUnexpectedError?(request, error)
                return HTTPError.response(for: error)
            }
        case .methodNotAllowed(let allowed):
            var headers = HTTPHeaders()
            headers.add(name: "Allow", value: allowed.map(\.rawValue).joined(separator: ", "))
            return HTTPError(.methodNotAllowed, "method \(request.method) not allowed on \(request.path)", headers: headers)
                .response
        case .notFound:
            return HTTPError.notFound("no route for \(request.method) \(request.path)").response
        case .badPath:
            return HTTPError.badRequest("malformed percent-encoding in path").response
        }
    }

    static func split(_ path: String) -> [Substring] {
        path.split(separator: "/", omittingEmptySubsequences: true)
    }

    private struct Node: Sendable {
        var literals: [String: Node] = [:]
        var parameter: (name: String, node: Box)?
        var wildcard: (name: String, handlers: [HTTPMethod: Handler])?
        var handlers: [HTTPMethod: Handler] = [:]

        mutating func insert(segments: ArraySlice<Substring>, method: HTTPMethod, handler: @escaping Handler) {
            guard let first = segments.first else {
                handlers[method] = handler
                return
            }
            let rest = segments.dropFirst()
            if first.hasPrefix("*") {
                precondition(rest.isEmpty, "a wildcard must be the last segment")
                var entry = wildcard ?? (String(first.dropFirst()), [:])
                entry.handlers[method] = handler
                wildcard = entry
            } else if first.hasPrefix(":") {
                let name = String(first.dropFirst())
                let box = parameter?.node ?? Box(Node())
                precondition(parameter == nil || parameter?.name == name, "conflicting parameter names")
                box.node.insert(segments: rest, method: method, handler: handler)
                parameter = (name, box)
            } else {
                literals[String(first), default: Node()].insert(segments: rest, method: method, handler: handler)
            }
        }

        func match(_ segments: ArraySlice<String>, parameters: inout [String: String]) -> Node? {
            guard let first = segments.first else {
                return handlers.isEmpty ? nil : self
            }
            let rest = segments.dropFirst()
            if let literal = literals[first], let found = literal.match(rest, parameters: &parameters) {
                return found
            }
            if let (name, box) = parameter {
                var attempt = parameters
                attempt[name] = first
                if let found = box.node.match(rest, parameters: &attempt) {
                    parameters = attempt
                    return found
                }
            }
            if let (name, wildcardHandlers) = wildcard {
                parameters[name] = segments.joined(separator: "/")
                var leaf = Node()
                leaf.handlers = wildcardHandlers
                return leaf
            }
            return nil
        }
    }

    /// Indirection so a node can hold its parameter child (recursive value type).
    private final class Box: @unchecked Sendable {
        // Mutated only while the router is being built (a value owned by one thread);
        // after that the router is shared read-only.
        var node: Node
        init(_ node: Node) { self.node = node }
    }
}
