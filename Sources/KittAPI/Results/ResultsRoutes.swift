import KittHTTP
import KittJSON
import KittStore

/// Results (SPEC §5): list, get, delete, aggregate, compare. Results are created only by
/// agents (`POST /agents/<id>/results`) and `kitt import`.
///
/// Items are the stored document bytes with `"id"` spliced in, never decoded and
/// re-encoded. List pages and aggregates are cached until the next change to results.
enum ResultsRoutes {
    static func register(in router: inout Router, context: APIContext) {
        let store = context.store
        let cache = ResultsCache()

        router.get("/api/v1/results") { request in
            let page = try Page(from: request)
            let filter = ResultFilter(
                model: request.queryValue("model"), engine: request.queryValue("engine"),
                suiteName: request.queryValue("suite_name"))
            let key = "list|\(page.number)|\(page.size)|" + [filter.model, filter.engine, filter.suiteName]
                .map { $0.map { "=" + $0.count.description + ":" + $0 } ?? "-" }.joined(separator: "|")
            let body = try cache.bytes(for: key) {
                let (total, items) = try store.results.list(filter, limit: page.size, offset: page.offset)
                return page.envelope(items: items.map(JSON.raw), total: total).serialized()
            }
            return .jsonBytes(body)
        }

        router.get("/api/v1/results/aggregate") { request in
            try context.auth.requireAdmin(request)
            let groupName = request.queryValue("group_by") ?? "model"
            guard let group = ResultGroup(rawValue: groupName) else {
                throw HTTPError.badRequest("group_by must be one of model, engine, suite_name")
            }
            let metrics = request.queryValues("metric").filter { !$0.isEmpty }
            guard metrics.count <= 32 else { throw HTTPError.badRequest("at most 32 metrics") }
            let key = "aggregate|\(group.rawValue)|" + metrics.map { "\($0.count):\($0)" }.joined(separator: "|")
            let body = try cache.bytes(for: key) {
                JSON.array(try store.results.aggregate(groupBy: group, metrics: metrics)).serialized()
            }
            return .jsonBytes(body)
        }

        router.post("/api/v1/results/compare") { request in
            try context.auth.requireAdmin(request)
            let body = try request.jsonObject()
            guard let ids = try body.optionalStringArray("ids") else { throw HTTPError.badRequest("'ids' is required") }
            guard ids.count <= 1000 else { throw HTTPError.badRequest("at most 1000 ids") }
            return .json(.array(try store.results.get(ids: ids).map(JSON.raw)))
        }

        router.get("/api/v1/results/:id") { request in
            guard let item = try store.results.get(id: request.parameter("id")) else {
                throw HTTPError.notFound("result not found")
            }
            return .jsonBytes(item.bytes)
        }

        router.delete("/api/v1/results/:id") { request in
            try context.auth.requireAdmin(request)
            guard try store.results.delete(id: request.parameter("id")) else {
                throw HTTPError.notFound("result not found")
            }
            return .json(["deleted": true])
        }
    }
}
