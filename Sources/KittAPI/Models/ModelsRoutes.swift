import Dispatch
import KittHTTP
import KittJSON
import KittNet

/// `/api/v1/models/*` (SPEC §5 Models) and `GET /api/v1/quicktest/models`.
///
/// Devon calls and model-dir work never run on an event loop: each handler returns a
/// deferred response and does the blocking part on one of these private queues (not the
/// global pool, not the cooperative pool). Downloads get their own queue: they can take an
/// hour and must not hold up searches.
enum ModelsRoutes {
    static let devonQueue = DispatchQueue(label: "kitt.models.devon", attributes: .concurrent)
    static let downloadQueue = DispatchQueue(label: "kitt.models.download", attributes: .concurrent)
    static let directoryQueue = DispatchQueue(label: "kitt.models.directory")

    /// `devonReadTimeout`: how long a Devon call other than a download may take (tests shorten it).
    static func register(in router: inout Router, context: APIContext, devonReadTimeout: Double = 30) {
        let directory = ModelDirectory(root: context.settings.modelDirectory)
        let devon = DevonClient(
            settings: context.settings, http: HTTPClient(connectTimeout: 5, readTimeout: devonReadTimeout))
        let downloads = ModelDownloads(events: context.events)

        router.get("/api/v1/models/search") { request in
            guard let query = request.queryValue("q"), !query.isEmpty else {
                throw HTTPError.badRequest("query parameter 'q' is required")
            }
            let limit = try limitParameter(request)
            let source = request.queryValue("source").flatMap { $0.isEmpty ? nil : $0 }
            let page = try Page(from: request)
            guard let devon else { throw HTTPError.serviceUnavailable("Devon is not configured (--devon-url)") }
            return deferred(on: devonQueue) { () throws(HTTPError) in
                let items = try devon.search(query: query, limit: limit, source: source)
                return .json(envelope(items, page: page))
            }
        }

        router.get("/api/v1/models/local") { request in
            let page = try Page(from: request)
            if let devon {
                return deferred(on: devonQueue) { () throws(HTTPError) in
                    let models = try devon.listModels()
                    let formats = Dictionary(
                        (directory.manifestEntries() ?? []).map { ($0.key, $0.formats) },
                        uniquingKeysWith: { a, _ in a })
                    let items = models.map { model in
                        ModelDirectory.LocalModel(
                            name: model.modelID, path: model.path,
                            formats: formats["\(model.source)::\(model.modelID)"] ?? [], sizeBytes: model.sizeBytes
                        ).json
                    }
                    return .json(envelope(items, page: page))
                }
            }
            return deferred(on: directoryQueue) { () throws(HTTPError) in
                .json(envelope(directory.localModels().map(\.json), page: page))
            }
        }

        router.post("/api/v1/models/download") { request in
            try context.auth.requireAdmin(request)
            let body = try request.jsonObject()
            let repoID = try body.requiredString("repo_id")
            let patterns = try body.optionalStringArray("allow_patterns")
            let source = try body.optionalString("source") ?? "huggingface"
            try ModelDirectory.validate(repoID: repoID)
            guard let devon else { throw HTTPError.serviceUnavailable("Devon is not configured (--devon-url)") }
            return deferred(on: downloadQueue) { () throws(HTTPError) in
                let id = downloads.start(repoID: repoID, source: source)
                do throws(HTTPError) {
                    let path = try devon.download(modelID: repoID, source: source, includePatterns: patterns)
                    downloads.finish(id: id, path: path, error: nil)
                    return .json(["path": .string(path)], status: .accepted)
                } catch {
                    downloads.finish(id: id, path: nil, error: error.message)
                    throw error
                }
            }
        }

        // The downloads started here, newest first (running, then how each ended).
        router.get("/api/v1/models/downloads") { request in
            .json(envelope(downloads.all, page: try Page(from: request)))
        }

        router.delete("/api/v1/models/*repo_id") { request in
            try context.auth.requireAdmin(request)
            let repoID = request.parameter("repo_id")
            try ModelDirectory.validate(repoID: repoID)
            if let devon {
                let source = request.queryValue("source").flatMap { $0.isEmpty ? nil : $0 } ?? "huggingface"
                return deferred(on: devonQueue) { () throws(HTTPError) in
                    guard try devon.delete(source: source, modelID: repoID) else {
                        throw HTTPError.notFound("model '\(repoID)' not found")
                    }
                    return .json(["deleted": true])
                }
            }
            return deferred(on: directoryQueue) { () throws(HTTPError) in
                guard try directory.delete(repoID: repoID) else {
                    throw HTTPError.notFound("model '\(repoID)' not found")
                }
                return .json(["deleted": true])
            }
        }

        router.get("/api/v1/quicktest/models") { request in
            let page = try Page(from: request)
            return deferred(on: directoryQueue) { () throws(HTTPError) in
                .json(envelope((directory.manifestEntries() ?? []).map(\.json), page: page))
            }
        }
    }

    /// `limit` for Devon searches: an integer 1...100, default 20.
    static func limitParameter(_ request: HTTPRequest) throws(HTTPError) -> Int {
        min(try request.queryInteger("limit", in: 1...Int.max) ?? 20, 100)
    }

    /// One page of an in-memory list, in the SPEC §4 envelope.
    static func envelope(_ items: [JSON], page: Page) -> JSON {
        let start = min(page.offset, items.count)
        let end = min(start + page.size, items.count)
        return page.envelope(items: Array(items[start..<end]), total: items.count)
    }

    /// Runs `work` on `queue` and answers with its response, or its error as JSON.
    static func deferred(on queue: DispatchQueue, _ work: @escaping @Sendable () throws(HTTPError) -> HTTPResponse)
        -> HTTPResponse
    {
        .deferred { promise in
            queue.async {
                do {
                    promise.succeed(try work())
                } catch {
                    promise.fail(error)
                }
            }
        }
    }
}
