import KittHTTP
import KittJSON
import KittStore

/// Results (SPEC §5): list, get, delete, aggregate, compare. Results are created only by
/// agents (`POST /agents/<id>/results`) and `kitt import`.
///
/// The handlers parse and render; `ResultsService` does the work off the event loop.
/// Items are the stored document bytes with `"id"` spliced in, never decoded and re-encoded.
enum ResultsRoutes {
    static func register(in router: inout Router, context: APIContext, services: Services) {
        let service = services.results

        router.get("/api/v1/results") { request in
            let page = try Page(from: request)
            let filter = ResultFilter(
                model: request.queryValue("model"), engine: request.queryValue("engine"),
                suiteName: request.queryValue("suite_name"))
            return .committed({ service.list(filter, limit: page.size, offset: page.offset, completion: $0) }) { found in
                .jsonBytes(page.envelope(items: found.items.map(JSON.raw), total: found.total).serialized())
            }
        }

        router.get("/api/v1/results/aggregate") { request in
            try context.auth.requireAdmin(request)
            let groupName = request.queryValue("group_by") ?? "model"
            guard let group = ResultGroup(rawValue: groupName) else {
                throw HTTPError.badRequest("group_by must be one of model, engine, suite_name")
            }
            let metrics = request.queryValues("metric").filter { !$0.isEmpty }
            guard metrics.count <= 32 else { throw HTTPError.badRequest("at most 32 metrics") }
            return .committed({ service.aggregate(groupBy: group, metrics: metrics, completion: $0) }) { aggregate in
                .jsonBytes(JSON.array(aggregate.rows.map { render($0, group: group, metrics: aggregate.metrics) }).serialized())
            }
        }

        router.post("/api/v1/results/compare") { request in
            try context.auth.requireAdmin(request)
            let body = try request.jsonObject()
            guard let ids = try body.optionalStringArray("ids") else { throw HTTPError.badRequest("'ids' is required") }
            guard ids.count <= 1000 else { throw HTTPError.badRequest("at most 1000 ids") }
            return .committed({ service.compare(ids: ids, completion: $0) }) { items in
                .jsonBytes(JSON.array(items.map(JSON.raw)).serialized())
            }
        }

        router.get("/api/v1/results/:id") { request in
            let id = request.parameter("id")
            return .committed({ service.get(id: id, completion: $0) }) { item in
                guard let item else { throw HTTPError.notFound("result not found") }
                return .jsonBytes(item.bytes)
            }
        }

        router.delete("/api/v1/results/:id") { request in
            try context.auth.requireAdmin(request)
            let id = request.parameter("id")
            return .committed({ service.delete(id: id, completion: $0) }) { deleted in
                guard deleted else { throw HTTPError.notFound("result not found") }
                return .json(["deleted": true])
            }
        }
    }

    /// `{"<group>": value, "count": n, "<metric>_avg": x|null, ...}`.
    static func render(_ row: ResultsRepository.AggregateRow, group: ResultGroup, metrics: [String]) -> JSON {
        var object = JSONObject()
        object.reserveCapacity(2 + metrics.count)
        object[group.rawValue] = .string(row.value)
        object["count"] = .int(row.count)
        for (metric, average) in zip(metrics, row.averages) {
            object[metric + "_avg"] = average.map { .double($0) } ?? .null
        }
        return .object(object)
    }
}
