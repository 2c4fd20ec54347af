import Dispatch
import KittHTTP
import KittJSON
import Synchronization

/// Live events for SSE subscribers, with a bounded history for `Last-Event-ID` replay.
///
/// Publishing formats the frame once and hands it to each matching subscriber's stream,
/// whose `send` only appends to that connection's bounded backlog and schedules a write on
/// its own queue: a publisher never waits for a socket, and a slow subscriber is dropped by
/// its connection when its backlog overflows. Sends happen under the bus lock so every
/// subscriber sees events in id order.
public final class EventBus: Sendable {
    public struct Event: Sendable {
        public let id: Int
        public let type: String
        /// The ids this event is about (agent, campaign, quick test); filtered streams match on them.
        public let sources: [String]
        public let data: JSON
        let frame: [UInt8]
    }

    private struct Subscriber {
        let stream: any ResponseStream
        let filter: String?
    }

    private struct State {
        var nextEventID = 1
        var history: [Event] = []
        var historyStart = 0
        var subscribers: [Int: Subscriber] = [:]
        var nextSubscriberID = 0
        var keepalive: KeepaliveTimer?
        /// Called with every event, in id order, under the bus lock (the lifecycle log).
        var observers: [@Sendable (Event) -> Void] = []
    }

    private let state = Mutex(State())
    private let historyLimit: Int

    public init(historyLimit: Int = 1024) {
        self.historyLimit = historyLimit
    }

    public var subscriberCount: Int { state.withLock { $0.subscribers.count } }

    /// Publishes an event to every subscriber whose filter matches one of `sources`.
    @discardableResult
    public func publish(_ type: String, sources: [String], data: JSON) -> Int {
        state.withLock { state in
            let id = state.nextEventID
            state.nextEventID += 1
            var frame: [UInt8] = []
            frame.reserveCapacity(96)
            frame.append(contentsOf: Array("id: \(id)\nevent: \(type)\ndata: ".utf8))
            data.write(into: &frame)
            frame.append(contentsOf: [0x0A, 0x0A])
            let event = Event(id: id, type: type, sources: sources, data: data, frame: frame)
            if state.history.count < historyLimit {
                state.history.append(event)
            } else {
                state.history[state.historyStart] = event
                state.historyStart = (state.historyStart + 1) % historyLimit
            }
            var dropped: [Int] = []
            for (key, subscriber) in state.subscribers where EventBus.matches(event, subscriber.filter) {
                if !subscriber.stream.send(frame) { dropped.append(key) }
            }
            // A stream that refused (closed, or its backlog overflowed) gets nothing more.
            for key in dropped { state.subscribers.removeValue(forKey: key) }
            for observer in state.observers { observer(event) }
            return id
        }
    }

    /// Adds a subscriber; first replays the retained events after `lastEventID` (matching the filter).
    public func subscribe(_ stream: any ResponseStream, filter: String?, lastEventID: Int?) {
        let id = state.withLock { state -> Int in
            if let lastEventID {
                for event in EventBus.ordered(state) where event.id > lastEventID && EventBus.matches(event, filter) {
                    stream.send(event.frame)
                }
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
    public var history: [Event] { state.withLock { EventBus.ordered($0) } }

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

    private static func ordered(_ state: State) -> [Event] {
        Array(state.history[state.historyStart...] + state.history[..<state.historyStart])
    }
}


/// DispatchSource is thread-safe; Swift's Dispatch overlay just does not declare it Sendable.
private struct KeepaliveTimer: @unchecked Sendable {
    let source: any DispatchSourceTimer
}
