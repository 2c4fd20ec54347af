import Dispatch
import KittHTTP
import KittJSON
import Synchronization

/// Live events for SSE subscribers, with a bounded history for `Last-Event-ID` replay.
///
/// Publishing formats the frame once and hands it to each matching subscriber's stream,
/// whose `send` only appends to that connection's backlog — bounded in bytes
/// (`ServerConfiguration.maxStreamBacklogBytes`, 1 MiB) — and schedules a write on its own
/// queue: a publisher never waits for a socket, and a slow subscriber is dropped by its
/// connection when its backlog overflows. Sends happen under the bus lock so every
/// subscriber sees events in id order.
///
/// The history is bounded by bytes (SPEC §7.2: 8 MiB by default), not only by count, so
/// large events (16 KiB log lines) cannot pin more memory than that; the newest event is
/// always kept.
public final class EventBus: Sendable {
    public struct Event: Sendable {
        public let id: Int
        public let type: String
        /// The ids this event is about (agent, campaign, quick test); filtered streams match on them.
        public let sources: [String]
        /// The SSE frame: `id: …\nevent: …\ndata: <json>\n\n` (the only copy of the data kept).
        let frame: [UInt8]
        let dataStart: Int

        /// The event's JSON, parsed back from the frame (tests and replay tools; the bus keeps
        /// only the frame, so an event costs its bytes once).
        public var data: JSON {
            (try? JSON(parsing: Array(frame[dataStart..<(frame.count - 2)]))) ?? .null
        }

        /// Formats the SSE frame once.
        static func make(id: Int, type: String, sources: [String], data: JSON) -> Event {
            var frame: [UInt8] = []
            frame.reserveCapacity(96)
            frame.append(contentsOf: Array("id: \(id)\nevent: \(type)\ndata: ".utf8))
            let dataStart = frame.count
            data.write(into: &frame)
            frame.append(contentsOf: [0x0A, 0x0A])
            return Event(id: id, type: type, sources: sources, frame: frame, dataStart: dataStart)
        }

        /// What the history charges for it: the frame, its sources and a fixed overhead.
        var cost: Int { frame.count + type.utf8.count + sources.reduce(0) { $0 + $1.utf8.count + 16 } + 64 }
    }

    private struct Subscriber {
        let stream: any ResponseStream
        let filter: String?
    }

    private struct State {
        var nextEventID = 1
        /// Oldest first from `historyHead`; slots before it are emptied at once (their bytes
        /// freed) and compacted away lazily.
        var history: [Event?] = []
        var historyHead = 0
        var historyBytes = 0
        var subscribers: [Int: Subscriber] = [:]
        var nextSubscriberID = 0
        var keepalive: KeepaliveTimer?
        /// Called with every event, in id order, under the bus lock (the lifecycle log).
        var observers: [@Sendable (Event) -> Void] = []
        /// Set when several instances share one database: events go through the shared log.
        var relay: (any EventRelay)?

        var retained: [Event] { history[historyHead...].compactMap { $0 } }
    }

    private let state = Mutex(State())
    private let historyLimit: Int
    private let historyByteLimit: Int

    private let replayByteLimit: Int

    /// `historyLimit`: events kept at most; `historyBytes`: their total cost at most;
    /// `replayBytes`: frames one `Last-Event-ID` replay sends at most (below a connection's
    /// 1 MiB stream backlog, so a reconnecting subscriber is not dropped by its own replay).
    public init(historyLimit: Int = 65_536, historyBytes: Int = 8 << 20, replayBytes: Int = 512 << 10) {
        self.historyLimit = max(1, historyLimit)
        self.historyByteLimit = max(1, historyBytes)
        self.replayByteLimit = max(0, replayBytes)
    }

    public var subscriberCount: Int { state.withLock { $0.subscribers.count } }

    /// Bytes the history holds now (what `historyBytes` bounds).
    public var historyByteCount: Int { state.withLock { $0.historyBytes } }

    /// Publishes an event to every subscriber whose filter matches one of `sources`. With a
    /// relay (several instances on one database) the event goes to the shared log instead and
    /// comes back through `deliver`, on every instance, with the log's id; then the id is not
    /// known yet and 0 is returned.
    @discardableResult
    public func publish(_ type: String, sources: [String], data: JSON) -> Int {
        let (id, relay) = state.withLock { state -> (Int, (any EventRelay)?) in
            if let relay = state.relay { return (0, relay) }
            let id = state.nextEventID
            emit(Event.make(id: id, type: type, sources: sources, data: data), in: &state)
            return (id, nil)
        }
        // Outside the lock: the relay only queues, but it is not the bus's to hold up.
        relay?.send(type, sources: sources, data: data)
        return id
    }

    /// From now on, `publish` hands events to `relay` (a shared log all instances read).
    public func relay(through relay: any EventRelay) {
        state.withLock { $0.relay = relay }
    }

    /// An event from the shared log (this instance's or another's), in id order: kept for
    /// replay and sent to subscribers like a local one. Ids at or below the last one seen
    /// are ignored, so a reconnecting log reader cannot deliver an event twice.
    public func deliver(id: Int, type: String, sources: [String], data: JSON) {
        state.withLock { state in
            guard id >= state.nextEventID else { return }
            emit(Event.make(id: id, type: type, sources: sources, data: data), in: &state)
        }
    }

    private func emit(_ event: Event, in state: inout State) {
        state.nextEventID = event.id + 1
        remember(event, in: &state)
        var dropped: [Int] = []
        for (key, subscriber) in state.subscribers where EventBus.matches(event, subscriber.filter) {
            if !subscriber.stream.send(event.frame) { dropped.append(key) }
        }
        // A stream that refused (closed, or its backlog overflowed) gets nothing more.
        for key in dropped { state.subscribers.removeValue(forKey: key) }
        for observer in state.observers { observer(event) }
    }

    /// Appends to the history, then drops the oldest events until both bounds hold again.
    private func remember(_ event: Event, in state: inout State) {
        state.history.append(event)
        state.historyBytes += event.cost
        while state.history.count - state.historyHead > 1,
            state.historyBytes > historyByteLimit || state.history.count - state.historyHead > historyLimit
        {
            state.historyBytes -= state.history[state.historyHead]?.cost ?? 0
            state.history[state.historyHead] = nil
            state.historyHead += 1
        }
        // Compact once the dropped prefix is as long as what is kept (amortized O(1)).
        if state.historyHead > 64, state.historyHead * 2 >= state.history.count {
            state.history.removeFirst(state.historyHead)
            state.historyHead = 0
        }
    }

    /// Adds a subscriber; first replays the retained events after `lastEventID` (matching the filter).
    public func subscribe(_ stream: any ResponseStream, filter: String?, lastEventID: Int?) {
        let id = state.withLock { state -> Int in
            if let lastEventID {
                // The newest missed events that fit the replay budget, oldest first: more than
                // a subscriber's backlog holds would only get it dropped, and again on reconnect.
                var replay: [Event] = []
                var bytes = 0
                for event in state.retained.reversed() where event.id > lastEventID && EventBus.matches(event, filter) {
                    bytes += event.frame.count
                    if bytes > replayByteLimit { break }
                    replay.append(event)
                }
                for event in replay.reversed() { stream.send(event.frame) }
            }
            state.nextSubscriberID += 1
            state.subscribers[state.nextSubscriberID] = Subscriber(stream: stream, filter: filter)
            return state.nextSubscriberID
        }
        stream.onClose { [weak self] in
            self?.state.withLock { _ = $0.subscribers.removeValue(forKey: id) }
        }
    }

    /// Calls `handler` with every event published from now on (quick: it runs under the bus lock).
    public func observe(_ handler: @escaping @Sendable (Event) -> Void) {
        state.withLock { $0.observers.append(handler) }
    }

    /// The retained events, oldest first (tests and replay).
    public var history: [Event] { state.withLock { Array($0.retained) } }

    /// Sends a `: keepalive` comment to every subscriber every `interval` seconds.
    public func startKeepalive(every interval: Double) {
        let timer = DispatchSource.makeTimerSource(queue: DispatchQueue(label: "kitt.events.keepalive"))
        timer.schedule(deadline: .now() + interval, repeating: interval, leeway: .milliseconds(100))
        timer.setEventHandler { [weak self] in self?.sendKeepalive() }
        timer.resume()
        state.withLock { $0.keepalive = KeepaliveTimer(source: timer) }
    }

    /// Closes every stream (shutdown) and stops the keepalive timer.
    public func closeAll() {
        let (streams, timer) = state.withLock { state in
            defer { state.subscribers = [:]; state.keepalive = nil }
            return (state.subscribers.values.map(\.stream), state.keepalive)
        }
        timer?.source.cancel()
        for stream in streams { stream.close() }
    }

    private func sendKeepalive() {
        let frame = Array(": keepalive\n\n".utf8)
        state.withLock { state in
            var dropped: [Int] = []
            for (key, subscriber) in state.subscribers where !subscriber.stream.send(frame) { dropped.append(key) }
            for key in dropped { state.subscribers.removeValue(forKey: key) }
        }
    }

    private static func matches(_ event: Event, _ filter: String?) -> Bool {
        guard let filter else { return true }
        return event.sources.contains(filter)
    }
}

/// Carries published events to every kitt instance on one database (PostgreSQL's event log):
/// `send` must not wait (it is called from store completions); each instance's reader hands
/// the stored events back to its bus with `EventBus.deliver`, in id order.
public protocol EventRelay: Sendable {
    func send(_ type: String, sources: [String], data: JSON)
}

/// DispatchSource is thread-safe; Swift's Dispatch overlay just does not declare it Sendable.
private struct KeepaliveTimer: @unchecked Sendable {
    let source: any DispatchSourceTimer
}
