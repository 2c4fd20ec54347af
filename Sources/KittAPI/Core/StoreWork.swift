import KittHTTP
import KittStore

/// Handler work that reads or writes the store, taken off the event loop: the handler
/// returns a deferred response at once and `work` runs on the store's worker pool (never the
/// cooperative pool). Thrown errors are answered as the router would (HTTPError → its status,
/// anything else → 500). Lets a route be registered among the loop-safe ones; for writes agents
/// make at a high rate prefer the store's `writeAsync` (group commit).
enum StoreWork {
    static func deferred(_ store: any DataStore, _ work: @escaping @Sendable () throws -> HTTPResponse) -> HTTPResponse {
        OffLoop.run(store, work)
    }
}
