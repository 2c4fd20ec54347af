#if canImport(Glibc)
import KittStore
import Glibc
#endif
import Dispatch
import KittJSON
import KittPostgres
import Synchronization

/// Server events shared by every kitt instance on one database (issue 15): each publish
/// stores the event and NOTIFYs its id; every instance's listener reads the new rows in id
/// order and hands them to its own subscribers.
///
/// Ids are allocated and committed in order (publishers take one transaction-scoped
/// advisory lock), so a reader that has seen id N never later finds an event below N:
/// "everything after my last id" is exact, for live delivery and for `Last-Event-ID` replay.
public struct PostgresEventLog: Sendable {
    let store: PostgresStore

    /// The NOTIFY channel; payloads are event ids (the rows carry the data: NOTIFY payloads
    /// are limited to 8000 bytes).
    public static let channel = "kitt_events"
    static let publishLockKey: Int64 = 0x6B69_7474_6576  // "kittev"

    public struct StoredEvent: Sendable, Equatable {
        public let id: Int
        public let type: String
        public let sources: [String]
        public let data: JSON
    }

    /// Stores the event and wakes every instance's listener; returns its id (durable).
    @discardableResult
    public func publish(_ type: String, sources: [String], data: JSON) throws -> Int {
        try store.pool.transaction { connection in
            try connection.query("SELECT pg_advisory_xact_lock($1)", [.integer(PostgresEventLog.publishLockKey)])
            guard let id = try connection.queryOne(
                "INSERT INTO events (type, sources, data, created_at) VALUES ($1, $2, $3, $4) RETURNING id",
                [.text(type), .text(JSON.array(sources.map { .string($0) }).jsonString), .text(data.jsonString),
                 .text(Timestamp.now())])?.int(0)
            else { throw PostgresError(sqlState: "", message: "INSERT INTO events returned no id") }
            try connection.notify(PostgresEventLog.channel, payload: String(id))
            return id
        }
    }

    /// Events with ids above `id`, oldest first (at most `limit`).
    public func events(after id: Int, limit: Int = 1000) throws -> [StoredEvent] {
        try store.pool.withConnection { try PostgresEventLog.events($0, after: id, limit: limit) }
    }

    static func events(_ connection: PostgresConnection, after id: Int, limit: Int) throws -> [StoredEvent] {
        try connection.query(
            "SELECT id, type, sources, data FROM events WHERE id > $1 ORDER BY id LIMIT $2",
            [PostgresValue(id), PostgresValue(max(1, limit))]
        ).rows.map { row in
            StoredEvent(
                id: row.int(0) ?? 0, type: row.string(1) ?? "",
                sources: ((try? JSON(parsing: Array((row.string(2) ?? "[]").utf8)))?.arrayValue ?? [])
                    .compactMap(\.stringValue),
                data: (try? JSON(parsing: Array((row.string(3) ?? "null").utf8))) ?? .null)
        }
    }

    /// The newest id (0 when none): where a new listener starts.
    public func lastID() throws -> Int {
        try store.pool.withConnection { try $0.queryOne("SELECT COALESCE(MAX(id), 0) FROM events")?.int(0) ?? 0 }
    }

    /// Deletes events older than the newest `keep` (the replay window).
    @discardableResult
    public func prune(keep: Int) throws -> Int {
        try store.pool.withConnection { connection in
            try connection.run(
                "DELETE FROM events WHERE id <= (SELECT COALESCE(MAX(id), 0) FROM events) - $1",
                [PostgresValue(max(0, keep))])
        }
    }
}

/// One instance's subscription to the shared event log: a thread with its own connection
/// LISTENing on `PostgresEventLog.channel`, delivering every event after `startAfter` to
/// `handler`, in id order, exactly once. A lost connection is reopened and the listener
/// catches up from the last id it delivered; it also re-reads every `pollSeconds` so a
/// missed NOTIFY costs latency, never an event.
public final class PostgresEventListener: Sendable {
    /// Shared with the listening loop (an Atomic alone cannot be captured: it is noncopyable).
    private final class Flag: Sendable { let running = Atomic<Bool>(true) }
    private let flag = Flag()
    private let finished = DispatchSemaphore(value: 0)

    public init(
        info: ConnectionInfo, startAfter: Int, pollSeconds: Double = 2,
        handler: @escaping @Sendable (PostgresEventLog.StoredEvent) -> Void
    ) {
        let flag = self.flag
        let finished = self.finished
        // Waits are cut into slices so `stop` is prompt; the table is re-read on a NOTIFY,
        // after a reconnect, and every `pollSeconds` whatever happened.
        let slice: Int32 = 250
        // Clamped before converting: Int(NaN or infinity) would trap.
        let pollMilliseconds = pollSeconds.isFinite ? min(max(pollSeconds, 0), 3600) * 1000 : 2000
        let slicesPerPoll = max(1, Int(pollMilliseconds) / Int(slice))
        // A private queue: this loop blocks for its whole life, never on a shared pool.
        DispatchQueue(label: "kitt.pg.events.listener").async {
            var last = startAfter
            var connection: PostgresConnection?
            var mustRead = true
            var quietSlices = 0
            while flag.running.load(ordering: .relaxed) {
                do {
                    if connection?.isHealthy != true {
                        connection?.close()
                        let fresh = try PostgresConnection(info)
                        try fresh.listen(PostgresEventLog.channel)
                        connection = fresh
                        mustRead = true  // events published while we were not listening
                    }
                    guard let listening = connection else { continue }
                    if mustRead || quietSlices >= slicesPerPoll {
                        while true {
                            let batch = try PostgresEventLog.events(listening, after: last, limit: 1000)
                            for event in batch {
                                handler(event)
                                last = event.id
                            }
                            if batch.count < 1000 { break }
                        }
                        mustRead = false
                        quietSlices = 0
                    }
                    if try listening.notifications(timeoutMilliseconds: slice).isEmpty {
                        quietSlices += 1
                    } else {
                        mustRead = true
                    }
                } catch {
                    connection?.close()
                    connection = nil
                    usleep(200_000)
                }
            }
            connection?.close()
            finished.signal()
        }
    }

    deinit { stop() }

    /// Stops the listener (within about a quarter second) and waits for it to finish.
    public func stop() {
        guard flag.running.exchange(false, ordering: .relaxed) else { return }
        finished.wait()
    }
}
