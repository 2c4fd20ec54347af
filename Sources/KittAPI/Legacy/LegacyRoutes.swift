import KittHTTP
import KittJSON
import KittStore

/// `kitt web --legacy`: the read-only v1 dashboard (SPEC §1). Only GET routes exist, so
/// every write is a 404/405. Reads are indexed SQLite queries (the store) or in-memory filters
/// (a results directory, `LegacyResultsDirectory`), run off the event loop.
public enum LegacyRoutes {
    /// Rows shown on the HTML page at most (the JSON endpoints return everything).
    static let pageRowLimit = 500

    /// `source`: where the runs come from (default: the store's).
    public static func makeRouter(context: APIContext, source: (any LegacyResultSource)? = nil) -> Router {
        var router = Router()
        router.wrapHandler = OffLoop.wrapper(context.store)
        // The store's own queries are SQLite's; on PostgreSQL `kitt web` requires --results-dir.
        let queries: any LegacyResultSource =
            source ?? (context.store as? Store)?.legacyQueries ?? NoLegacySource()
        let version = context.settings.version
        let health = HTTPResponse.json(.object(JSONObject([("status", "ok"), ("version", .string(version))])))

        router.get("/") { request in
            let model = filter(request, "model")
            let engine = filter(request, "engine")
            let runs = try queries.runs(model: model, engine: engine, limit: pageRowLimit)
            let groups = try queries.groups(model: model, engine: engine)
            let choices = try queries.distinctModelsAndEngines()
            let html = LegacyPage.render(
                runs: runs, total: groups.reduce(0) { $0 + $1.runs }, passed: groups.reduce(0) { $0 + $1.passed },
                models: choices.models, engines: choices.engines,
                selectedModel: model, selectedEngine: engine, version: version)
            return .text(html, contentType: "text/html; charset=utf-8")
        }

        router.get("/api/results") { request in
            let runs = try queries.runs(model: filter(request, "model"), engine: filter(request, "engine"), limit: -1)
            var bytes: [UInt8] = [UInt8(ascii: "[")]
            for (index, run) in runs.enumerated() {
                if index > 0 { bytes.append(UInt8(ascii: ",")) }
                appendDocument(run, to: &bytes)
            }
            bytes.append(UInt8(ascii: "]"))
            return .jsonBytes(bytes)
        }

        router.get("/api/results/:index") { request in
            let index = try request.integerParameter("index", in: Int.min...Int.max)
            guard let run = try queries.run(at: index) else { throw HTTPError.notFound("no result at index \(index)") }
            var bytes: [UInt8] = []
            appendDocument(run, to: &bytes)
            return .jsonBytes(bytes)
        }

        router.get("/api/campaigns") { request in
            let groups = try queries.groups(model: filter(request, "model"), engine: filter(request, "engine"))
            return .json(
                .array(
                    groups.map { group in
                        .object(
                            JSONObject([
                                ("key", .string("\(group.model)|\(group.engine)")), ("model", .string(group.model)),
                                ("engine", .string(group.engine)), ("runs", .int(group.runs)),
                                ("passed", .int(group.passed)),
                                ("failed", .int(group.failed)),
                            ]))
                    }))
        }

        router.get("/api/health") { _ in health }
        return router
    }

    /// A non-empty query value, else nil (an empty `?model=` from the form means "all").
    static func filter(_ request: HTTPRequest, _ name: String) -> String? {
        guard let value = request.queryValue(name), !value.isEmpty else { return nil }
        return value
    }

    /// `{"id":"<id>",` + the stored document after its opening brace: the document was
    /// validated as a JSON object when stored, so it is spliced as bytes, never re-encoded.
    static func appendDocument(_ run: LegacyQueries.Run, to bytes: inout [UInt8]) {
        Array(run.document.utf8).withUnsafeBytes { JSONSplice.appendObject(id: run.id, members: $0, to: &bytes) }
    }
}

/// What `--legacy` reads when neither a results directory nor a SQLite store is there: every
/// request is a 503 saying so (`kitt web` refuses this combination at startup).
struct NoLegacySource: LegacyResultSource {
    private var unavailable: HTTPError {
        HTTPError(.serviceUnavailable, "the legacy dashboard reads kitt's SQLite store or --results-dir")
    }
    func runs(model: String?, engine: String?, limit: Int) throws -> [LegacyQueries.Run] { throw unavailable }
    func run(at index: Int) throws -> LegacyQueries.Run? { throw unavailable }
    func groups(model: String?, engine: String?) throws -> [LegacyQueries.Group] { throw unavailable }
    func distinctModelsAndEngines() throws -> (models: [String], engines: [String]) { throw unavailable }
}
