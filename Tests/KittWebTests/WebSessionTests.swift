import Dispatch
import KittNet
import KittSQLite
import KittStore
import KittTestSupport
import Synchronization
import Testing

@testable import KittWeb

/// A clock the test moves by hand.
final class FakeClock: Sendable {
    let now = Mutex<Double>(1_000_000)
    func advance(_ seconds: Double) { now.withLock { $0 += seconds } }
    var read: @Sendable () -> Double { { self.now.withLock { $0 } } }
}

struct Timeout: Error {}

/// Creates a session and waits (bounded) for it to be durable.
func issue(_ sessions: WebSessions) throws -> WebSessions.Issued {
    let box = Mutex<Result<WebSessions.Issued, any Error>?>(nil)
    let done = DispatchSemaphore(value: 0)
    sessions.create { result in
        box.withLock { $0 = result }
        done.signal()
    }
    guard done.wait(timeout: .now() + 10) == .success, let result = box.withLock({ $0 }) else { throw Timeout() }
    return try result.get()
}

func end(_ sessions: WebSessions, _ id: String) {
    let done = DispatchSemaphore(value: 0)
    sessions.end(id: id) { done.signal() }
    _ = done.wait(timeout: .now() + 10)
}

@Suite struct WebSessionTests {
    @Test func aSessionIsFoundByItsIdAndExpires() throws {
        let clock = FakeClock()
        let sessions = try WebSessions(store: nil, lifetime: 60, clock: clock.read)
        let issued = try issue(sessions)
        #expect(issued.id.count == 64 && issued.csrfToken.count == 64 && issued.id != issued.csrfToken)
        #expect(sessions.session(id: issued.id)?.csrfToken == issued.csrfToken)
        #expect(sessions.session(id: issued.csrfToken) == nil)
        #expect(sessions.session(id: "") == nil)
        clock.advance(59)
        #expect(sessions.session(id: issued.id) != nil)
        let later = try issue(sessions)
        clock.advance(2)
        #expect(sessions.session(id: issued.id) == nil)
        #expect(sessions.count == 1)
        // Making a session forgets the expired ones, even those nobody looked up.
        clock.advance(60)
        _ = try issue(sessions)
        #expect(sessions.count == 1)
        #expect(sessions.session(id: later.id) == nil)
    }

    @Test func sessionsSurviveARestartAndOnlyTheirHashIsStored() throws {
        let directory = TempDirectory("kitt-web")
        let path = directory.path + "/kitt.db"
        let clock = FakeClock()
        var store = try Store(path: path)
        var sessions = try WebSessions(store: store, lifetime: 3600, clock: clock.read)
        let kept = try issue(sessions)
        let ended = try issue(sessions)
        end(sessions, ended.id)
        let stored = try store.database.read { try $0.query("SELECT id_hash FROM web_sessions") }.compactMap { $0.string(0) }
        #expect(stored == [SHA256.hex(kept.id)])
        store.close()

        store = try Store(path: path)
        sessions = try WebSessions(store: store, lifetime: 3600, clock: clock.read)
        #expect(sessions.session(id: kept.id)?.csrfToken == kept.csrfToken)
        #expect(sessions.session(id: ended.id) == nil)
        store.close()

        // Expired rows are not loaded after a restart.
        clock.advance(3601)
        store = try Store(path: path)
        sessions = try WebSessions(store: store, lifetime: 3600, clock: clock.read)
        #expect(sessions.count == 0)
        #expect(sessions.session(id: kept.id) == nil)
        store.close()
    }

    @Test func tokensAreRandom() {
        let tokens = Set((0..<100).map { _ in WebSessions.randomToken() })
        #expect(tokens.count == 100)
        #expect(tokens.allSatisfy { $0.count == 64 && $0.allSatisfy(\.isHexDigit) })
    }
}
