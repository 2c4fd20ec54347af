import Dispatch
import Foundation
import KittJSON
import KittPostgres
import KittStore
import KittStorePostgres
import Synchronization
import KittTestSupport
import Testing

/// The shared event log: every instance sees every event, in one id order, exactly once.
@Suite(.enabled(if: PostgresServer.isAvailable, "\(PostgresServer.unavailableReason ?? "")"))
struct EventLogTests {
    /// Collects what a listener delivers.
    final class Seen: Sendable {
        let ids = Mutex<[Int]>([])
        let types = Mutex<[Int: String]>([:])
        func record(_ event: PostgresEventLog.StoredEvent) {
            ids.withLock { $0.append(event.id) }
            types.withLock { $0[event.id] = event.type }
        }
        func waitForCount(_ n: Int, seconds: Double = 30) -> [Int] {
            let deadline = Date().addingTimeInterval(seconds)
            while ids.withLock({ $0.count }) < n, Date() < deadline { usleep(20_000) }
            return ids.withLock { $0 }
        }
    }

    @Test func publishersOnTwoInstancesReachListenersOnBothInOneOrder() throws {
        let info = try PostgresServer.freshDatabase()
        let instances = [try PostgresStore(info, connections: 4), try PostgresStore(info, connections: 4)]
        defer { for store in instances { store.close() } }
        let seen = [Seen(), Seen()]
        let listeners = seen.map { s in PostgresEventListener(info: info, startAfter: 0) { s.record($0) } }
        defer { for listener in listeners { listener.stop() } }

        // 8 publishers, half on each instance, 10 events each, all at once.
        let group = DispatchGroup()
        let failures = Mutex<[String]>([])
        for publisher in 0..<8 {
            DispatchQueue(label: "publisher-\(publisher)").async(group: group) {
                for n in 0..<10 {
                    do {
                        try instances[publisher % 2].events.publish(
                            "status", sources: ["test-\(publisher)"], data: .object(JSONObject([("n", .int(n))])))
                    } catch {
                        failures.withLock { $0.append("\(error)") }
                    }
                }
            }
        }
        #expect(group.wait(timeout: .now() + 60) == .success)
        #expect(failures.withLock { $0 } == [])
        // Every listener: ids 1...80, each once, in order (no gap a later event could fill).
        for s in seen { #expect(s.waitForCount(80) == Array(1...80)) }

        // Replay for a client reconnecting with Last-Event-ID 75, on either instance.
        let replay = try instances[1].events.events(after: 75)
        #expect(replay.map(\.id) == [76, 77, 78, 79, 80])
        #expect(replay.allSatisfy { $0.type == "status" && $0.sources.first?.hasPrefix("test-") == true })
        #expect(try instances[0].events.lastID() == 80)
        #expect(try instances[0].events.prune(keep: 10) == 70)
        #expect(try instances[0].events.events(after: 0).map(\.id) == Array(71...80))
    }

    @Test func aListenerWhoseConnectionDiesCatchesUpWithoutLosingEvents() throws {
        let info = try PostgresServer.freshDatabase()
        let store = try PostgresStore(info, connections: 2)
        defer { store.close() }
        let seen = Seen()
        let listener = PostgresEventListener(info: info, startAfter: 0, pollSeconds: 60) { seen.record($0) }
        defer { listener.stop() }
        try store.events.publish("a", sources: [], data: .null)
        #expect(seen.waitForCount(1) == [1])
        // The server ends the listener's session (failover, restart); events keep coming meanwhile.
        let admin = try PostgresConnection(info)
        let killed = try admin.query(
            """
            SELECT pg_terminate_backend(pid) FROM pg_stat_activity
            WHERE datname = current_database() AND pid <> pg_backend_pid()
              AND (query LIKE 'LISTEN%' OR query LIKE 'SELECT id, type, sources, data FROM events%')
            """).rows.count
        #expect(killed == 1)
        for _ in 0..<5 { try store.events.publish("b", sources: [], data: .null) }
        // Delivered after the reconnect (not by the 60 s poll), each once, in order.
        #expect(seen.waitForCount(6, seconds: 20) == Array(1...6))
    }
}
