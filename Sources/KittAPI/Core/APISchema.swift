import KittHTTP
import KittJSON

/// A JSON Schema, small enough to declare every route's body and answer in a few lines.
public indirect enum APISchema: Sendable {
    case string(String? = nil)
    case integer(String? = nil)
    case number(String? = nil)
    case boolean(String? = nil)
    /// Any JSON value.
    case any(String? = nil)
    /// Named fields; `required` lists the mandatory ones; other keys are allowed (kitt keeps them).
    case object([(String, APISchema)], required: [String] = [], description: String? = nil)
    /// An object whose keys are data (`{"<agent_id>": ...}`).
    case map(APISchema, description: String? = nil)
    case array(APISchema)
    /// `#/components/schemas/<name>`.
    case ref(String)
    case enumeration([String], description: String? = nil)

    /// `{items, total, page, per_page, pages}` around `item` (SPEC §4).
    static func page(of item: APISchema) -> APISchema {
        .object(
            [("items", .array(item)), ("total", .integer()), ("page", .integer()), ("per_page", .integer()), ("pages", .integer())],
            required: ["items", "total", "page", "per_page", "pages"])
    }

    static func fields(_ fields: (String, APISchema)..., required: [String] = []) -> APISchema {
        .object(fields, required: required)
    }

    /// The OpenAPI 3.1 (JSON Schema 2020-12) form.
    var json: JSON {
        func described(_ base: [(String, JSON)], _ description: String?) -> JSON {
            .object(JSONObject(base + (description.map { [("description", JSON.string($0))] } ?? [])))
        }
        switch self {
        case .string(let description): return described([("type", "string")], description)
        case .integer(let description): return described([("type", "integer")], description)
        case .number(let description): return described([("type", "number")], description)
        case .boolean(let description): return described([("type", "boolean")], description)
        case .any(let description): return described([], description)
        case .object(let fields, let required, let description):
            var pairs: [(String, JSON)] = [("type", "object")]
            if !fields.isEmpty {
                pairs.append(("properties", .object(JSONObject(fields.map { ($0.0, $0.1.json) }))))
            }
            if !required.isEmpty { pairs.append(("required", .array(required.map(JSON.string)))) }
            return described(pairs, description)
        case .map(let value, let description):
            return described([("type", "object"), ("additionalProperties", value.json)], description)
        case .array(let item): return .object(JSONObject([("type", "array"), ("items", item.json)]))
        case .ref(let name): return .object(JSONObject([("$ref", .string("#/components/schemas/\(name)"))]))
        case .enumeration(let values, let description):
            return described([("type", "string"), ("enum", .array(values.map(JSON.string)))], description)
        }
    }

    /// A one-line human form for the Markdown reference (`{agent_id, status}`, `[Result]`).
    var brief: String {
        switch self {
        case .string: "string"
        case .integer: "integer"
        case .number: "number"
        case .boolean: "boolean"
        case .any: "any JSON"
        case .object(let fields, let required, _):
            fields.isEmpty
                ? "object"
                : "{" + fields.map { required.contains($0.0) ? "\($0.0)*" : $0.0 }.joined(separator: ", ") + "}"
        case .map(let value, _): "{\"<key>\": \(value.brief)}"
        case .array(let item): "[\(item.brief)]"
        case .ref(let name): name
        case .enumeration(let values, _): values.joined(separator: " | ")
        }
    }
}

/// Who may call a route (SPEC §3).
public enum APIAccess: String, Sendable {
    /// No credentials.
    case open
    /// The admin token.
    case admin
    /// The admin token or the agent's own token.
    case agent
    /// Open, but some uses need the admin token (install.sh rotating an existing agent).
    case optionalAdmin
    /// `--metrics-token` when configured, else open.
    case metricsToken

    var label: String {
        switch self {
        case .open: "none"
        case .admin: "admin"
        case .agent: "admin or the agent's token"
        case .optionalAdmin: "none (admin to rotate an existing agent)"
        case .metricsToken: "--metrics-token when set"
        }
    }
}

/// A query parameter.
public struct APIParameter: Sendable {
    public let name: String
    public let schema: APISchema
    public let description: String
    public let required: Bool

    public init(_ name: String, _ description: String, _ schema: APISchema = .string(), required: Bool = false) {
        self.name = name
        self.schema = schema
        self.description = description
        self.required = required
    }
}

/// The successful answer of a route.
public struct APIAnswer: Sendable {
    public let status: Int
    public let schema: APISchema?
    public let mediaType: String
    public let description: String

    public init(status: Int, _ schema: APISchema?) {
        self.init(schema, status: status)
    }

    public init(_ schema: APISchema?, status: Int = 200, mediaType: String = "application/json", description: String = "") {
        self.status = status
        self.schema = schema
        self.mediaType = mediaType
        self.description = description
    }
}

/// Everything the reference says about one (method, pattern): the single source of the
/// OpenAPI document and docs/API.md.
public struct RouteDeclaration: Sendable {
    public let method: HTTPMethod
    public let pattern: String
    public let tag: String
    public let summary: String
    public let access: APIAccess
    public let query: [APIParameter]
    public let body: APISchema?
    public let answer: APIAnswer
    /// Error statuses beyond the ones implied (401/403 by access, 404 with a path parameter,
    /// 400 with a body or query).
    public let errors: [Int]

    public init(
        _ method: HTTPMethod, _ pattern: String, tag: String, _ summary: String, access: APIAccess = .open,
        query: [APIParameter] = [], body: APISchema? = nil, answer: APIAnswer, errors: [Int] = []
    ) {
        self.method = method
        self.pattern = pattern
        self.tag = tag
        self.summary = summary
        self.access = access
        self.query = query
        self.body = body
        self.answer = answer
        self.errors = errors
    }

    /// Path parameters in pattern order (`:id`, `*repo_id`).
    public var pathParameters: [String] {
        pattern.split(separator: "/").compactMap { segment in
            segment.hasPrefix(":") || segment.hasPrefix("*") ? String(segment.dropFirst()) : nil
        }
    }

    /// `/api/v1/agents/{id}`.
    public var openAPIPath: String {
        "/" + pattern.split(separator: "/").map { segment in
            segment.hasPrefix(":") || segment.hasPrefix("*") ? "{\(segment.dropFirst())}" : String(segment)
        }.joined(separator: "/")
    }

    /// Every error status this route may answer, sorted.
    public var errorStatuses: [Int] {
        var statuses = Set(errors)
        switch access {
        case .admin, .agent, .optionalAdmin, .metricsToken: statuses.formUnion([401, 403])
        case .open: break
        }
        if !pathParameters.isEmpty { statuses.insert(404) }
        if body != nil || !query.isEmpty { statuses.insert(400) }
        if body != nil { statuses.formUnion([413]) }
        return statuses.sorted()
    }
}
