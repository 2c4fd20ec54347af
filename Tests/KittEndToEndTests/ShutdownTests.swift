import Foundation
import KittBase
import KittNet
import KittTestSupport
import Testing

/// Graceful shutdown (SPEC §1): streams and idle connections close at once, a request in
/// flight finishes within the grace period, and stop returns in bounded time.
@Suite(.serialized) struct ShutdownTests {
    @Test func stop_closesStreamsAndIdleConnectionsPromptly() throws {
        let server = try E2E.server()
        let port = server.port
        let stream = try server.connect()
        try stream.send(E2E.get("/api/v1/events/stream"))
        _ = try stream.readUntil("\r\n\r\n", timeout: 5)
        let idle = try server.connect()
        try idle.send(E2E.get("/api/v1/health"))
        #expect(try idle.readResponse().status == 200)
        let start = ContinuousClock.now
        server.stop(gracePeriod: 3)
        let elapsed = E2E.elapsed(since: start)
        #expect(elapsed < 1.5, "stop took \(elapsed) s with nothing in flight")
        _ = try stream.readUntilClose(timeout: 3)
        _ = try idle.readUntilClose(timeout: 3)
        #expect(stream.peerClosed && idle.peerClosed)
        #expect(E2E.refusesConnections(port: port))
    }

    @Test func stop_letsARequestInFlightFinishWithConnectionClose() throws {
        let server = try E2E.server()
        let port = server.port
        let client = try server.connect()
        try client.send("POST /api/v1/health HTTP/1.1\r\nHost: localhost\r\nContent-Length: 10\r\n\r\n01234")
        let stopped = DispatchSemaphore(value: 0)
        let start = ContinuousClock.now
        DispatchQueue.global().async {
            server.stop(gracePeriod: 6)
            stopped.signal()
        }
        // The listener closes right after the server starts shutting down.
        #expect(E2E.eventually { E2E.refusesConnections(port: port) })
        try client.send("56789")
        let response = try client.readResponse(timeout: 3)
        #expect(response.status == 405)
        #expect(response.headers["Connection"]?.lowercased() == "close")
        _ = try client.readUntilClose(timeout: 3)
        #expect(client.peerClosed)
        #expect(stopped.wait(timeout: .now() + 8) == .success)
        // This client keeps its socket after the close: the server lingers (≤ 2 s) to let it read
        // the answer, then closes; stop returns then, well before the 6 s grace period ends.
        let elapsed = E2E.elapsed(since: start)
        #expect(elapsed < 4, "stop took \(elapsed) s")
    }

    @Test func stop_isBoundedByTheGracePeriodWhenAClientStalls() throws {
        let server = try E2E.server { $0.headerTimeout = 30 }
        let client = try server.connect()
        try client.send("POST /api/v1/health HTTP/1.1\r\nHost: localhost\r\nContent-Length: 10\r\n\r\n01")
        usleep(100_000)
        let start = ContinuousClock.now
        server.stop(gracePeriod: 1)
        let elapsed = E2E.elapsed(since: start)
        #expect(elapsed >= 0.8 && elapsed < 2.5, "stop took \(elapsed) s")
        _ = try client.readUntilClose(timeout: 3)
        #expect(client.peerClosed)
    }
}

@Suite struct FailedStartTests {
    /// The files this process holds open whose path contains `fragment` (from /proc/self/fd).
    static func openFiles(containing fragment: String) -> [String] {
        guard let dir = opendir("/proc/self/fd") else { return [] }
        defer { closedir(dir) }
        var paths: [String] = []
        while let entry = readdir(dir) {
            let name = withUnsafePointer(to: entry.pointee.d_name) {
                $0.withMemoryRebound(to: CChar.self, capacity: 256) { String(cString: $0) }
            }
            var target = [CChar](repeating: 0, count: 4096)
            let n = readlink("/proc/self/fd/" + name, &target, target.count - 1)
            guard n > 0 else { continue }
            let path = String(decoding: target[0..<n].map { UInt8(bitPattern: $0) }, as: UTF8.self)
            if path.contains(fragment) { paths.append(path) }
        }
        return paths
    }

    @Test func anAppThatCannotBindClosesItsDatabase() throws {
        guard Files.exists("/proc/self/fd") else { return }
        let first = try E2E.server()
        let directory = TempDirectory("kitt-failed-start")
        #expect(throws: (any Error).self) {
            _ = try TestServer.start(directory: directory) { $0.port = first.port }
        }
        // The store was opened (the database file exists) and nothing of it is held open.
        #expect(Files.exists(directory.path + "/kitt.db"))
        #expect(Self.openFiles(containing: directory.path + "/kitt.db").isEmpty)
        first.stop()
    }
}
