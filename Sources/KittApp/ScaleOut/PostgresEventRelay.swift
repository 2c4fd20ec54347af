import Dispatch
import KittAPI
import KittJSON
import KittStorePostgres
import Synchronization

/// Publishes this instance's events into PostgreSQL's shared event log (`PostgresEventLog`),
/// in the order they were published, on a private serial queue: publishers (store
/// completions) never wait for the database. Every instance's `PostgresEventListener` reads
/// them back into its own bus, so every SSE subscriber sees every event with the same id.
///
/// Bounded: with the database unreachable, at most `maxPending` events wait; later ones are
/// dropped with a log line rather than growing memory. The log is pruned to the replay window
/// now and then.
final class PostgresEventRelay: EventRelay {
    private let log: PostgresEventLog
    private let queue = DispatchQueue(label: "kitt.pg.events.relay")
    private let pending = Atomic<Int>(0)
    private let published = Atomic<Int>(0)
    private let maxPending: Int
    private let keep: Int
    private let onError: @Sendable (String) -> Void

    init(
        log: PostgresEventLog, maxPending: Int = 10_000, keep: Int = 65_536,
        onError: @escaping @Sendable (String) -> Void
    ) {
        self.log = log
        self.maxPending = maxPending
        self.keep = keep
        self.onError = onError
    }

    func send(_ type: String, sources: [String], data: JSON) {
        guard pending.add(1, ordering: .relaxed).newValue <= maxPending else {
            pending.subtract(1, ordering: .relaxed)
            onError("kitt: event log backlog full (\(maxPending)); dropped a '\(type)' event")
            return
        }
        queue.async { [self] in
            defer { pending.subtract(1, ordering: .relaxed) }
            do {
                try log.publish(type, sources: sources, data: data)
            } catch {
                onError("kitt: could not store a '\(type)' event in PostgreSQL: \(error)")
                return
            }
            // Every 1,000 events: drop what is older than the replay window.
            if published.add(1, ordering: .relaxed).newValue % 1000 == 0 { _ = try? log.prune(keep: keep) }
        }
    }

    /// Events waiting to be stored (`/metrics`).
    var backlog: Int { pending.load(ordering: .relaxed) }

    /// Waits until every event sent so far is stored (shutdown).
    func drain() { queue.sync {} }
}
