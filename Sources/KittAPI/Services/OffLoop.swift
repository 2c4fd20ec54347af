import KittHTTP
import KittStore

/// Route handlers that still call the store synchronously run on the store's workers, not
/// on the event loop that received the request: the loop answers when the handler is done
/// (a `.deferred` response), and keeps serving its other connections meanwhile.
/// `Routes.makeRouter` applies this to every route registered after the loop-safe ones.
enum OffLoop {
    static func wrapper(_ store: Store) -> @Sendable (@escaping Handler) -> Handler {
        let workers = store.workers
        return { handler in
            { request in
                .deferred { promise in
                    workers.submit {
                        do {
                            let response = try handler(request)
                            // A handler that already answers later hands its promise on.
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
        }
    }
}
