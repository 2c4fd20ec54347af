import Dispatch
import KittAPI
import KittPostgres
import KittStorePostgres
import KittWeb
import Synchronization

/// What an instance on a shared PostgreSQL database runs besides the store (issue 15): its
/// events go through the database's event log and come back from it (so SSE subscribers on
/// every instance see every event, with one id sequence for `Last-Event-ID`), and the
/// campaign runner runs only while this instance holds the campaign lease.
final class SharedDatabase: Sendable {
    /// Events kept for replay when an instance starts (the bus's own bounds apply after).
    static let replayOnStart = 4096

    let leadership: CampaignLeadership
    private let relay: PostgresEventRelay
    private let listener: PostgresEventListener
    /// Reloads the browser sessions from the database (`keepFresh`).
    private let sessionTimer = Mutex<SessionTimer?>(nil)

    init(
        store: PostgresStore, info: ConnectionInfo, events: EventBus, runner: CampaignRunner,
        say: @escaping @Sendable (String) -> Void
    ) throws {
        let eventLog = store.events
        relay = PostgresEventRelay(log: eventLog, onError: { printError($0) })
        // Recent events first, so a subscriber reconnecting here with another instance's
        // Last-Event-ID gets what it missed; the listener continues after the newest.
        let newest = try eventLog.lastID()
        var last = max(0, newest - SharedDatabase.replayOnStart)
        while last < newest {
            let batch = try eventLog.events(after: last, limit: 1000)
            guard let end = batch.last?.id else { break }
            for event in batch {
                events.deliver(id: event.id, type: event.type, sources: event.sources, data: event.data)
            }
            last = end
        }
        listener = PostgresEventListener(info: info, startAfter: last) { event in
            events.deliver(id: event.id, type: event.type, sources: event.sources, data: event.data)
        }
        events.relay(through: relay)
        leadership = CampaignLeadership(leases: PostgresLeases(info), runner: runner, say: say)
    }

    /// This instance's part in `/metrics`: whether it runs the campaigns, and the events
    /// waiting to reach the shared log.
    func addGauges(to metrics: MetricsSource) {
        let leadership = self.leadership
        let relay = self.relay
        metrics.addGauge(
            "kitt_campaign_runner_leader",
            help: "1 when this instance holds the campaign lease and runs the campaigns (PostgreSQL store).",
            read: { leadership.isLeading ? 1 : 0 })
        metrics.addGauge(
            "kitt_event_relay_backlog",
            help: "Events waiting to be stored in PostgreSQL's shared event log.",
            read: { Double(relay.backlog) })
    }

    /// A browser signed in (or out) through another instance is known here within
    /// `interval` seconds: the sessions are reloaded from the database on a timer.
    func keepFresh(_ sessions: WebSessions, every interval: Double = 2) {
        let timer = DispatchSource.makeTimerSource(queue: DispatchQueue(label: "kitt.pg.sessions"))
        timer.schedule(deadline: .now() + interval, repeating: interval, leeway: .milliseconds(200))
        timer.setEventHandler { try? sessions.reload() }
        timer.resume()
        sessionTimer.withLock { $0 = SessionTimer(source: timer) }
    }

    /// After the runner stopped: the last events are stored, then the listener ends.
    func stop() {
        sessionTimer.withLock { $0?.source.cancel() }
        relay.drain()
        listener.stop()
    }
}

/// DispatchSource is thread-safe; Swift's Dispatch overlay just does not declare it Sendable.
private struct SessionTimer: @unchecked Sendable {
    let source: any DispatchSourceTimer
}

extension WebApp {
    /// Connections (and store workers) per instance: PostgreSQL's default `max_connections`
    /// of 100 leaves room for several instances (each also holds a listener and a lease
    /// connection) and for the lab's own tools.
    static let postgresConnections = 16

    /// What `--database` cannot be combined with, refused before anything starts.
    static func checkSharedDatabaseOptions(_ options: WebOptions) throws {
        guard options.databaseURL != nil else { return }
        if options.legacy && options.resultsDirectory == nil {
            throw UsageError(
                "--legacy reads kitt's SQLite store or --results-dir DIR; with --database give --results-dir")
        }
    }
}
