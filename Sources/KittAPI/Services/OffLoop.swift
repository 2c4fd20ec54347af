import KittHTTP
import KittStore

/// Handler work that reads the store synchronously runs on the store's workers, not on the
/// event loop that received the request: the loop answers when the work is done (a
/// `.deferred` response), and keeps serving its other connections meanwhile.
enum OffLoop {
    /// `work` on the store's workers; a response it returns that itself answers later
    /// (`.deferred`, e.g. a service call) is handed the promise. Thrown errors are answered as
    /// the router would (HTTPError → its status, anything else → 500).
    static func run(_ store: any DataStore, _ work: @escaping @Sendable () throws -> HTTPResponse) -> HTTPResponse {
        let workers = store.workers
        return .deferred { promise in
            workers.submit {
                do {
                    let response = try work()
                    if case .deferred(let start) = response.body {
                        start(promise)
                    } else {
                        promise.succeed(response)
                    }
                } catch {
                    promise.fail(error)
                }
            }
        }
    }

    /// `run` around every handler registered while it is the router's `wrapHandler`
    /// (`Routes.makeRouter` applies it to the routes that still call the store synchronously).
    static func wrapper(_ store: any DataStore) -> @Sendable (@escaping Handler) -> Handler {
        { handler in { request in run(store) { try handler(request) } } }
    }
}
