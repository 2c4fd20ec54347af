import KittAPI

/// Long-running work beside the request path (agent offline sweeps, campaign runners, ...).
/// Each feature registers its own; this only starts and stops them in order.
final class BackgroundServices: Sendable {
    private let context: APIContext

    init(context: APIContext) {
        self.context = context
    }

    func start() {}

    func stop() {}
}
