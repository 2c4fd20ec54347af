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
    /// Every (method, pattern) added, in order: the API reference and tests check it against
    /// the declarations, so a route cannot exist undocumented.
    public private(set) var routes: [RouteEntry] = []
    /// The distinct patterns, normalized (`/api/v1/results`); a response's `matchedRoute` is an
    /// index into this list, so metrics and logs label by pattern, never by raw path.
    public private(set) var patterns: [String] = []
    /// Receives errors that were not `HTTPError`s (they become a bare 500), for logging.
    public var onUnexpectedError: (@Sendable (HTTPRequest, any Error) -> Void)?
    /// Every (method, pattern) added, in order: the route table (the API fuzzer walks it).
    public private(set) var declaredRoutes: [(method: HTTPMethod, pattern: String)] = []
    /// Applied to every handler added from now on (e.g. to run it off the event loop).
    public var wrapHandler: (@Sendable (@escaping Handler) -> Handler)?

    public init() {}

    public mutating func add(_ method: HTTPMethod, _ pattern: String, _ handler: @escaping Handler) {
        declaredRoutes.append((method, pattern))
        let segments = Router.split(pattern)
        let normalized = "/" + segments.joined(separator: "/")
        let index: Int
        if let known = patterns.firstIndex(of: normalized) {
            index = known
        } else {
            index = patterns.count
            patterns.append(normalized)
        }
        // Registering a (method, pattern) again replaces its handler (the web UI's `/` over the API's).
        let entry = RouteEntry(method: method, pattern: normalized)
        if !routes.contains(entry) { routes.append(entry) }
        root.insert(segments: segments[...], method: method, route: Route(handler: wrapHandler.map { $0(handler) } ?? handler, index: index))
    }

    public mutating func get(_ pattern: String, _ handler: @escaping Handler) { add(.get, pattern, handler) }
    public mutating func post(_ pattern: String, _ handler: @escaping Handler) { add(.post, pattern, handler) }
    public mutating func put(_ pattern: String, _ handler: @escaping Handler) { add(.put, pattern, handler) }
    public mutating func patch(_ pattern: String, _ handler: @escaping Handler) { add(.patch, pattern, handler) }
    public mutating func delete(_ pattern: String, _ handler: @escaping Handler) { add(.delete, pattern, handler) }

    public enum Resolution {
        /// `route`: the index of the matched pattern in `patterns`.
        case found(Handler, parameters: [String: String], route: Int)
        /// `route`: the path's pattern (the path exists, the method does not).
        case methodNotAllowed(allowed: [HTTPMethod], route: Int?)
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
        if let route = node.handlers[method] {
            return .found(route.handler, parameters: parameters, route: route.index)
        }
        if method == .head, let route = node.handlers[.get] {
            return .found(route.handler, parameters: parameters, route: route.index)
        }
        var allowed = Array(node.handlers.keys)
        if node.handlers[.get] != nil { allowed.append(.head) }
        return .methodNotAllowed(allowed: allowed.sorted { $0.rawValue < $1.rawValue }, route: node.handlers.first?.value.index)
    }

    /// Routes and runs the handler; every failure becomes a JSON error response. The response
    /// carries the matched pattern's index (`matchedRoute`) whatever the handler returned.
    public func respond(to request: HTTPRequest) -> HTTPResponse {
        switch resolve(method: request.method, path: request.path) {
        case .found(let handler, let parameters, let route):
            var request = request
            request.pathParameters = parameters
            var response: HTTPResponse
            do {
                response = try handler(request)
            } catch let error as HTTPError {
                response = error.response
            } catch {
                onUnexpectedError?(request, error)
                response = HTTPError.response(for: error)
            }
            response.matchedRoute = route
            return response
        case .methodNotAllowed(let allowed, let route):
            var headers = HTTPHeaders()
            headers.add(name: "Allow", value: allowed.map(\.rawValue).joined(separator: ", "))
            var response = HTTPError(.methodNotAllowed, "method \(request.method) not allowed on \(request.path)", headers: headers)
                .response
            response.matchedRoute = route
            return response
        case .notFound:
            return HTTPError.notFound("no route for \(request.method) \(request.path)").response
        case .badPath:
            return HTTPError.badRequest("malformed percent-encoding in path").response
        }
    }

    static func split(_ path: String) -> [Substring] {
        path.split(separator: "/", omittingEmptySubsequences: true)
    }

    private struct Route: Sendable {
        let handler: Handler
        let index: Int
    }

    private struct Node: Sendable {
        var literals: [String: Node] = [:]
        var parameter: (name: String, node: Box)?
        var wildcard: (name: String, handlers: [HTTPMethod: Route])?
        var handlers: [HTTPMethod: Route] = [:]

        mutating func insert(segments: ArraySlice<Substring>, method: HTTPMethod, route handler: Route) {
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
                box.node.insert(segments: rest, method: method, route: handler)
                parameter = (name, box)
            } else {
                literals[String(first), default: Node()].insert(segments: rest, method: method, route: handler)
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

/// One registered route: what the router serves and the API reference must document.
public struct RouteEntry: Sendable, Hashable {
    public let method: HTTPMethod
    public let pattern: String

    public init(method: HTTPMethod, pattern: String) {
        self.method = method
        self.pattern = pattern
    }
}
