import KittHTTP
import KittJSON
import KittNet

/// Devon, KITT's model manager, over HTTP (SPEC §5 Models). Blocking: call it from a private
/// queue. Every failure is an `HTTPError` ready to send: 502 when Devon is unreachable, slow,
/// failing or speaks nonsense; 404 when Devon says the model does not exist.
public struct DevonClient: Sendable {
    public let baseURL: String
    public let apiKey: String?
    public let http: HTTPClient

    public init(baseURL: String, apiKey: String?, http: HTTPClient = HTTPClient(connectTimeout: 5, readTimeout: 30)) {
        var base = baseURL
        while base.hasSuffix("/") { base.removeLast() }
        self.baseURL = base
        self.apiKey = apiKey
        self.http = http
    }

    /// nil when Devon is not configured (no URL).
    public init?(settings: APISettings, http: HTTPClient = HTTPClient(connectTimeout: 5, readTimeout: 30)) {
        guard let url = settings.devonURL, !url.isEmpty else { return nil }
        self.init(baseURL: url, apiKey: settings.devonAPIKey.flatMap { $0.isEmpty ? nil : $0 }, http: http)
    }

    /// Devon downloads whole models: minutes to hours.
    public static let downloadTimeout: Double = 3600

    /// `GET /api/v1/search` → KITT items `{repo_id, name, source, size_gb, downloads}`.
    public func search(query: String, limit: Int, source: String? = nil) throws(HTTPError) -> [JSON] {
        var target = "/api/v1/search?query=\(PercentEncoding.encode(query))&limit=\(limit)"
        if let source { target += "&source=\(PercentEncoding.encode(source))" }
        let body = try call("GET", target)
        guard let results = body["results"]?.arrayValue else {
            throw HTTPError.badGateway("Devon search answered without a 'results' array")
        }
        return results.map { item in
            .object(
                JSONObject([
                    ("repo_id", .string(item["model_id"]?.stringValue ?? "")),
                    ("name", .string(item["model_name"]?.stringValue ?? item["model_id"]?.stringValue ?? "")),
                    ("source", .string(item["source"]?.stringValue ?? "")),
                    ("size_gb", .double(ModelDirectory.gigabytes(item["total_size_bytes"]?.intValue ?? 0))),
                    ("downloads", .int(item["downloads"]?.intValue ?? 0)),
                ]))
        }
    }

    /// One model Devon has locally.
    public struct LocalModel: Sendable, Equatable {
        public let source: String
        public let modelID: String
        public let path: String
        public let sizeBytes: Int
    }

    /// `GET /api/v1/models`.
    public func listModels() throws(HTTPError) -> [LocalModel] {
        let body = try call("GET", "/api/v1/models")
        guard let models = body["models"]?.arrayValue else {
            throw HTTPError.badGateway("Devon models answered without a 'models' array")
        }
        return models.map { item in
            LocalModel(
                source: item["source"]?.stringValue ?? "", modelID: item["model_id"]?.stringValue ?? "",
                path: item["path"]?.stringValue ?? "", sizeBytes: item["size_bytes"]?.intValue ?? 0)
        }
    }

    /// `POST /api/v1/downloads` → the local path. Slow: uses `downloadTimeout`.
    public func download(modelID: String, source: String, includePatterns: [String]?) throws(HTTPError) -> String {
        var request = JSONObject([("model_id", .string(modelID)), ("source", .string(source))])
        if let includePatterns { request["include_patterns"] = .array(includePatterns.map(JSON.string)) }
        let body = try call(
            "POST", "/api/v1/downloads", body: JSON.object(request).serialized(),
            client: http.withReadTimeout(DevonClient.downloadTimeout))
        guard let path = body["path"]?.stringValue else {
            throw HTTPError.badGateway("Devon download answered without a 'path'")
        }
        return path
    }

    /// `DELETE /api/v1/models/<source>/<model_id>` → whether Devon deleted it (false on 404).
    public func delete(source: String, modelID: String) throws(HTTPError) -> Bool {
        let encodedID = modelID.split(separator: "/", omittingEmptySubsequences: false)
            .map { PercentEncoding.encode(String($0)) }.joined(separator: "/")
        let body: JSON
        do {
            body = try call(
                "DELETE", "/api/v1/models/\(PercentEncoding.encode(source))/\(encodedID)", passNotFound: true)
        } catch let error where error.status == .notFound {
            return false
        }
        guard let deleted = body["deleted"]?.boolValue else {
            throw HTTPError.badGateway("Devon delete answered without 'deleted'")
        }
        return deleted
    }

    /// One request; the JSON body of a 2xx, else a 502 (or a 404 when `passNotFound`).
    func call(
        _ method: String, _ target: String, body: [UInt8] = [], client: HTTPClient? = nil, passNotFound: Bool = false
    ) throws(HTTPError)
        -> JSON
    {
        var headers: [(String, String)] = [("Accept", "application/json")]
        if let apiKey { headers.append(("Authorization", "Bearer \(apiKey)")) }
        if !body.isEmpty { headers.append(("Content-Type", "application/json")) }
        let response: HTTPResponseParser.ParsedResponse
        do {
            response = try (client ?? http).send(method: method, url: baseURL + target, headers: headers, body: body)
        } catch {
            throw HTTPError.badGateway("Devon is unreachable: \(error.description)")
        }
        if response.status == 404 && passNotFound { throw HTTPError.notFound("Devon: not found") }
        guard (200..<300).contains(response.status) else {
            throw HTTPError.badGateway("Devon answered HTTP \(response.status)")
        }
        guard let json = try? JSON(parsing: response.body), json.objectValue != nil else {
            throw HTTPError.badGateway("Devon sent a response that is not a JSON object")
        }
        return json
    }
}
