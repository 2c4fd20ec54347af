import KittBase
import KittHTTP

/// `GET /events/stream[/<source_id>]`: Server-Sent Events (SPEC §5 Events).
enum EventRoutes {
    static func register(in router: inout Router, context: APIContext) {
        let handler: Handler = { request in
            let filter = request.pathParameters["source_id"]
            let lastEventID = try request.headers["Last-Event-ID"].map { (text) throws(HTTPError) in
                try IntegerParameter.parse(String(text.trimmed(" ")), name: "Last-Event-ID", in: 0...Int.max)
            }
            var headers = HTTPHeaders()
            headers.add(name: "Content-Type", value: "text/event-stream")
            headers.add(name: "Cache-Control", value: "no-cache")
            headers.add(name: "X-Accel-Buffering", value: "no")
            let events = context.events
            return HTTPResponse(status: .ok, headers: headers, body: .stream { stream in
                stream.send(Array(": connected\n\n".utf8))
                events.subscribe(stream, filter: filter, lastEventID: lastEventID)
            })
        }
        router.get("/api/v1/events/stream", handler)
        router.get("/api/v1/events/stream/:source_id", handler)
    }
}
