import Dispatch
import KittJSON
import KittStore
import Synchronization

/// Every few seconds, marks agents whose last heartbeat is older than
/// `settings.agentOfflineAfterSeconds` as `offline` and publishes `agent_status` for each.
/// (GET /agents computes the same rule from last_heartbeat, so it is exact regardless.)
public final class AgentOfflineMonitor: Sendable {
    private let context: APIContext
    private let interval: Double
    private let queue = DispatchQueue(label: "kitt.agents.offline")
    // DispatchSource is thread-safe; the Dispatch overlay does not declare it Sendable.
    nonisolated(unsafe) private let timer: any DispatchSourceTimer
    private let state = Atomic<Int>(0)  // 0 new, 1 running, 2 stopped

    public init(context: APIContext, interval: Double? = nil) {
        self.context = context
        let shortest = min(context.settings.agentOfflineAfterSeconds, context.settings.provisionExpirySeconds)
        self.interval = interval ?? min(5, max(0.2, shortest / 3))
        timer = DispatchSource.makeTimerSource(queue: queue)
    }

    public func start() {
        guard state.compareExchange(expected: 0, desired: 1, ordering: .acquiringAndReleasing).exchanged else { return }
        let milliseconds = Int(interval * 1000)
        timer.schedule(deadline: .now() + .milliseconds(milliseconds), repeating: .milliseconds(milliseconds))
        timer.setEventHandler { [weak self] in self?.sweep() }
        timer.resume()
    }

    public func stop() {
        let previous = state.exchange(2, ordering: .acquiringAndReleasing)
        if previous == 1 {
            timer.cancel()
            queue.sync {}  // a sweep in progress finishes before stop returns
        }
    }

    deinit {
        if state.load(ordering: .acquiring) == 1 { timer.cancel() }
    }

    /// One pass; returns the ids marked offline. Also removes what never registered within
    /// `settings.provisionExpirySeconds` (provisioned agents, nameless install tokens).
    @discardableResult
    public func sweep() -> [String] {
        expireUnregistered()
        let cutoff = OfflineRule.cutoff(context.settings.agentOfflineAfterSeconds)
        guard let marked = try? context.store.agents.markOffline(cutoff: cutoff) else { return [] }
        for agent in marked { AgentsService.publishStatus(context.events, id: agent.id, name: agent.name, status: .offline) }
        return marked.map(\.id)
    }

    /// Provisioned agents that never registered go after the expiry (SPEC §7.2: 24 h), with an
    /// `agent_status` `removed` so dashboards drop them.
    @discardableResult
    public func expireUnregistered() -> [String] {
        let cutoff = OfflineRule.cutoff(context.settings.provisionExpirySeconds)
        guard let removed = try? context.store.agents.removeUnregistered(before: cutoff) else { return [] }
        // `removed` is no stored status: an event word only, for dashboards to drop the card.
        for agent in removed {
            AgentsService.publishStatus(context.events, id: agent.id, name: agent.name, status: "removed")
        }
        return removed.map(\.id)
    }
}
