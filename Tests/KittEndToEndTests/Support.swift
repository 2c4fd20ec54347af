import Foundation
import KittApp
import KittNet
import KittTestSupport
import Synchronization

#if canImport(Glibc)
    import Glibc
#endif

/// Shared set-up for the end-to-end suites: a real server with short timeouts, and small
/// helpers to assert on closes and timing. Every wait here is bounded.
enum E2E {
    /// OpenSSL writes to a vanished peer with plain `write`, which raises SIGPIPE; the test
    /// process hosts both the server and the clients, so it ignores the signal (as `kitt web` does).
    private static let ignoreSIGPIPE: Void = { signal(SIGPIPE, SIG_IGN) }()

    /// The real app over TLS (or plain HTTP with `insecure`), with timeouts short enough for tests.
    static func server(insecure: Bool = false, _ configure: (inout WebOptions) -> Void = { _ in }) throws -> TestServer
    {
        _ = ignoreSIGPIPE
        return try TestServer.start { options in
            options.insecure = insecure
            options.headerTimeout = 3
            options.idleTimeout = 5
            configure(&options)
        }
    }

    /// A plain TCP connection to the server's port, whatever it speaks.
    static func tcp(_ server: TestServer) throws -> RawClient {
        _ = ignoreSIGPIPE
        return try RawClient(port: server.port)
    }

    /// Seconds since `start`.
    static func elapsed(since start: ContinuousClock.Instant) -> Double {
        let duration = ContinuousClock.now - start
        return Double(duration.components.seconds) + Double(duration.components.attoseconds) / 1e18
    }

    /// Polls `condition` every 20 ms for up to `timeout` seconds.
    static func eventually(timeout: Double = 5, _ condition: () -> Bool) -> Bool {
        let start = ContinuousClock.now
        while elapsed(since: start) < timeout {
            if condition() { return true }
            usleep(20_000)
        }
        return condition()
    }

    /// True when nothing listens on 127.0.0.1:port any more.
    static func refusesConnections(port: Int) -> Bool {
        guard let fd = try? Socket.connect(host: "127.0.0.1", port: port, timeout: 1) else { return true }
        close(fd)
        return false
    }

    /// A GET on an existing connection (keep-alive).
    static func get(_ path: String, host: String = "localhost", extra: String = "") -> String {
        "GET \(path) HTTP/1.1\r\nHost: \(host)\r\n\(extra)\r\n"
    }
}

/// A child process with its stdout and stderr collected by background threads, so a test can
/// wait (bounded) for a line while the process keeps running.
final class ChildProcess: @unchecked Sendable {
    // `process` is configured before `run()` and then only queried; output is behind mutexes.
    let process = Process()
    private let stdoutText = OutputBuffer()
    private let stderrText = OutputBuffer()
    private let readers = DispatchGroup()

    init(_ executable: String, _ arguments: [String], environment: [String: String]? = nil) throws {
        process.executableURL = URL(fileURLWithPath: executable)
        process.arguments = arguments
        if let environment { process.environment = environment }
        let out = Pipe()
        let err = Pipe()
        process.standardOutput = out
        process.standardError = err
        process.standardInput = FileHandle.nullDevice
        try process.run()
        collect(out.fileHandleForReading, into: stdoutText)
        collect(err.fileHandleForReading, into: stderrText)
    }

    private func collect(_ handle: FileHandle, into text: OutputBuffer) {
        readers.enter()
        let thread = Thread { [readers] in
            while true {
                let data = handle.availableData
                if data.isEmpty { break }
                text.append(String(decoding: data, as: UTF8.self))
            }
            readers.leave()
        }
        thread.start()
    }

    var stdout: String { stdoutText.text }
    var stderr: String { stderrText.text }

    /// Waits until stdout (or stderr) contains `marker`; false on timeout or exit.
    func waitForOutput(_ marker: String, onStderr: Bool = false, timeout: Double = 20) -> Bool {
        E2E.eventually(timeout: timeout) {
            (onStderr ? stderr : stdout).contains(marker)
        }
    }

    /// Waits for the process to exit; kills it and returns nil on timeout.
    func waitForExit(timeout: Double = 20) -> Int32? {
        guard E2E.eventually(timeout: timeout, { !process.isRunning }) else {
            kill(process.processIdentifier, SIGKILL)
            process.waitUntilExit()
            return nil
        }
        process.waitUntilExit()
        _ = readers.wait(timeout: .now() + 5)
        return process.terminationStatus
    }

    func signal(_ number: Int32) { kill(process.processIdentifier, number) }

    deinit {
        if process.isRunning {
            kill(process.processIdentifier, SIGKILL)
            process.waitUntilExit()
        }
    }

    /// Runs to completion (bounded) and returns (status, stdout, stderr); status -1 on timeout.
    static func run(
        _ executable: String, _ arguments: [String], environment: [String: String]? = nil, timeout: Double = 30
    ) throws -> (status: Int32, stdout: String, stderr: String) {
        let child = try ChildProcess(executable, arguments, environment: environment)
        let status = child.waitForExit(timeout: timeout) ?? -1
        return (status, child.stdout, child.stderr)
    }
}

/// Text collected by a reader thread and read by the test.
final class OutputBuffer: Sendable {
    private let storage = Mutex("")
    func append(_ text: String) { storage.withLock { $0 += text } }
    var text: String { storage.withLock { $0 } }
}

/// Polls `check` (a positive signal) until it holds or `timeout` passes, then throws naming
/// `what`. Errors thrown by `check` count as "not yet" until the last try, which reports them.
func waitFor(_ what: String, timeout: Double, _ check: () throws -> Bool) throws {
    let deadline = Date().addingTimeInterval(timeout)
    while Date() < deadline {
        if (try? check()) == true { return }
        Thread.sleep(forTimeInterval: 0.05)
    }
    if try check() { return }
    throw POSIXError(.ETIMEDOUT, userInfo: [NSLocalizedDescriptionKey: "timed out waiting for \(what)"])
}
