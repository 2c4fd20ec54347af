import Dispatch
import KittJSON
import KittNet
import Synchronization

/// Whether Devon answers, checked at most every `interval` seconds (SPEC §7.1): the UI polls
/// this, and Devon must not get a request per poll. Checks run one at a time on a private
/// serial queue, so concurrent pollers share one check; callers get the answer through a
/// completion and never block an event loop.
final class DevonStatus: Sendable {
    /// `{"available": bool, "url": "...", "reason"?: "not_configured" | "unreachable"}`.
    struct Answer: Sendable, Equatable {
        var available: Bool
        var url: String
        var reason: String?

        var json: JSON {
            var object = JSONObject([("available", .bool(available)), ("url", .string(url))])
            if let reason { object["reason"] = .string(reason) }
            return .object(object)
        }
    }

    static let interval: Double = 10

    private let devon: DevonClient?
    private let queue = DispatchQueue(label: "kitt.devon.status")
    private let cached = Mutex<(answer: Answer, at: UInt64)?>(nil)

    init(settings: APISettings) {
        // Short timeouts: a status probe that hangs would hold every poller behind it.
        devon = DevonClient(settings: settings, http: HTTPClient(connectTimeout: 2, readTimeout: 3))
    }

    func check(_ completion: @escaping @Sendable (Answer) -> Void) {
        guard let devon else {
            completion(Answer(available: false, url: "", reason: "not_configured"))
            return
        }
        queue.async {
            let now = DispatchTime.now().uptimeNanoseconds
            if let (answer, at) = self.cached.withLock({ $0 }), Double(now - at) / 1e9 < DevonStatus.interval {
                completion(answer)
                return
            }
            let answer: Answer
            do {
                _ = try devon.call("GET", "/api/v1/models")
                answer = Answer(available: true, url: devon.baseURL, reason: nil)
            } catch {
                answer = Answer(available: false, url: devon.baseURL, reason: "unreachable")
            }
            self.cached.withLock { $0 = (answer, DispatchTime.now().uptimeNanoseconds) }
            completion(answer)
        }
    }
}
