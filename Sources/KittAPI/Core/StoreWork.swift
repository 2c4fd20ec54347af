import Dispatch
import KittHTTP

/// Handler work that reads or writes the store, taken off the event loop: the handler
/// returns a deferred response at once and `work` runs on a private queue (never the
/// cooperative pool). Thrown errors are answered as the router would (HTTPError → its
/// status, anything else → 500). For writes agents make at a high rate prefer the store's
/// `writeAsync` (group commit); this is for admin and UI endpoints.
enum StoreWork {
    static let queue = DispatchQueue(label: "kitt.api.store-work", attributes: .concurrent)

    static func deferred(_ work: @escaping @Sendable () throws -> HTTPResponse) -> HTTPResponse {
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
