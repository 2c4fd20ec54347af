import Foundation
import Glibc

@testable import KittNet

/// Helpers for the TLS tests: temp dirs, subprocesses, non-blocking socket pairs, a poll loop.
enum TLSTestSupport {
    /// Writing to a socket whose peer closed must give EPIPE, not kill the test process.
    static let ignoreSIGPIPE: Void = { _ = signal(SIGPIPE, SIG_IGN) }()

    static func temporaryDirectory() -> String {
        var template = Array("/tmp/kitt-tls-XXXXXX".utf8CString)
        let path = template.withUnsafeMutableBufferPointer { buffer in mkdtemp(buffer.baseAddress!) }
        precondition(path != nil, "mkdtemp failed")
        return String(cString: path!)
    }

    static func removeDirectory(_ path: String) {
        try? FileManager.default.removeItem(atPath: path)
    }

    /// Removes the temp dir that `makeBundle` made around `certsDirectory`.
    static func removeBundle(_ certsDirectory: String) {
        removeDirectory(URL(fileURLWithPath: certsDirectory).deletingLastPathComponent().path)
    }

    /// A fresh bundle in its own temp dir (extra SAN "kitt.test").
    static func makeBundle(hostNames: [String] = ["kitt.test"]) throws -> (directory: String, bundle: CertificateBundle)
    {
        let directory = temporaryDirectory() + "/certs"
        return (directory, try CertificateAuthority.ensure(directory: directory, hostNames: hostNames))
    }

    /// Runs a program to completion (killed after `timeout` seconds); returns exit status and output.
    @discardableResult
    static func run(_ executable: String, _ arguments: [String], timeout: Double = 30) throws -> (
        status: Int32, output: String
    ) {
        let process = Process()
        process.executableURL = URL(fileURLWithPath: executable)
        process.arguments = arguments
        let pipe = Pipe()
        process.standardOutput = pipe
        process.standardError = pipe
        try process.run()
        let watchdog = DispatchWorkItem { [process] in if process.isRunning { process.terminate() } }
        DispatchQueue(label: "kitt.test.watchdog").asyncAfter(deadline: .now() + timeout, execute: watchdog)
        let data = pipe.fileHandleForReading.readDataToEndOfFile()
        process.waitUntilExit()
        watchdog.cancel()
        return (process.terminationStatus, String(decoding: data, as: UTF8.self))
    }

    static func fileMode(_ path: String) -> mode_t {
        var info = stat()
        guard stat(path, &info) == 0 else { return 0 }
        return info.st_mode & 0o777
    }

    static func setNonBlocking(_ fd: Int32) {
        let flags = fcntl(fd, F_GETFL)
        precondition(fcntl(fd, F_SETFL, flags | O_NONBLOCK) == 0)
    }

    /// A connected pair of non-blocking stream sockets: (client end, server end).
    static func socketPair() -> (client: Int32, server: Int32) {
        _ = ignoreSIGPIPE
        var fds: [Int32] = [0, 0]
        precondition(socketpair(AF_UNIX, Int32(SOCK_STREAM.rawValue), 0, &fds) == 0)
        setNonBlocking(fds[0])
        setNonBlocking(fds[1])
        return (fds[0], fds[1])
    }

    /// Waits (at most `milliseconds`) until one of the fds is ready for what it wants.
    static func wait(_ wants: [(fd: Int32, events: Int16)], milliseconds: Int32 = 100) {
        var fds = wants.map { pollfd(fd: $0.fd, events: $0.events, revents: 0) }
        _ = poll(&fds, nfds_t(fds.count), milliseconds)
    }

    static func isTerminal(_ result: TLSHandshakeResult) -> Bool {
        switch result {
        case .complete, .failed: return true
        case .wantRead, .wantWrite: return false
        }
    }

    static func events(for result: TLSHandshakeResult) -> Int16 {
        result == .wantWrite ? Int16(POLLOUT) : Int16(POLLIN)
    }

    /// Steps both handshakes until each is complete or failed, or `timeout` seconds pass
    /// (then the unfinished side's last want* is returned, and `timedOut` is true).
    static func handshake(
        client: TLSConnection, clientFD: Int32, server: TLSConnection, serverFD: Int32, timeout: Double = 5
    ) -> (client: TLSHandshakeResult, server: TLSHandshakeResult, timedOut: Bool) {
        var clientState = TLSHandshakeResult.wantWrite
        var serverState = TLSHandshakeResult.wantRead
        let deadline = Date().addingTimeInterval(timeout)
        while !(isTerminal(clientState) && isTerminal(serverState)) {
            if !isTerminal(clientState) { clientState = client.handshake() }
            if !isTerminal(serverState) { serverState = server.handshake() }
            if Date() > deadline { return (clientState, serverState, true) }
            var wants: [(Int32, Int16)] = []
            if !isTerminal(clientState) { wants.append((clientFD, events(for: clientState))) }
            if !isTerminal(serverState) { wants.append((serverFD, events(for: serverState))) }
            if !wants.isEmpty { wait(wants) }
        }
        return (clientState, serverState, false)
    }

    /// Steps one side's handshake alone until complete/failed or timeout.
    static func handshakeAlone(_ connection: TLSConnection, fd: Int32, timeout: Double = 5) -> (
        result: TLSHandshakeResult, timedOut: Bool
    ) {
        let deadline = Date().addingTimeInterval(timeout)
        while true {
            let result = connection.handshake()
            if isTerminal(result) { return (result, false) }
            if Date() > deadline { return (result, true) }
            wait([(fd, events(for: result))])
        }
    }

    struct TransferStats {
        var received: [UInt8] = []
        var partialWrites = 0
        var wantWrites = 0
        var failure: String?
    }

    /// Writes all of `payload` through `writer` while reading it back through `reader`.
    static func transfer(
        _ payload: [UInt8], from writer: TLSConnection, writerFD: Int32, to reader: TLSConnection, readerFD: Int32,
        timeout: Double = 20
    ) -> TransferStats {
        var stats = TransferStats()
        var written = 0
        var buffer = [UInt8](repeating: 0, count: 64 * 1024)
        let deadline = Date().addingTimeInterval(timeout)
        while stats.received.count < payload.count {
            if Date() > deadline {
                stats.failure = "timed out"
                return stats
            }
            var wants: [(Int32, Int16)] = []
            if written < payload.count {
                let remaining = payload.count - written
                let result = payload.withUnsafeBytes { writer.write(UnsafeRawBufferPointer(rebasing: $0[written...])) }
                switch result {
                case .bytes(let n):
                    if n < remaining { stats.partialWrites += 1 }
                    written += n
                    if written < payload.count { wants.append((writerFD, Int16(POLLOUT))) }
                case .wantWrite:
                    stats.wantWrites += 1
                    wants.append((writerFD, Int16(POLLOUT)))
                case .wantRead: wants.append((writerFD, Int16(POLLIN)))
                case .closed:
                    stats.failure = "writer saw closed"
                    return stats
                case .failed(let message):
                    stats.failure = "write: \(message)"
                    return stats
                }
            }
            readLoop: while true {
                let result = buffer.withUnsafeMutableBytes { reader.read(into: $0) }
                switch result {
                case .bytes(let n): stats.received += buffer[0..<n]
                case .wantRead:
                    wants.append((readerFD, Int16(POLLIN)))
                    break readLoop
                case .wantWrite:
                    wants.append((readerFD, Int16(POLLOUT)))
                    break readLoop
                case .closed:
                    stats.failure = "reader saw closed"
                    return stats
                case .failed(let message):
                    stats.failure = "read: \(message)"
                    return stats
                }
            }
            if stats.received.count < payload.count, !wants.isEmpty { wait(wants) }
        }
        return stats
    }

    /// Reads until something other than `.wantRead` (or timeout, returned as `.wantRead`).
    static func readNext(_ connection: TLSConnection, fd: Int32, timeout: Double = 5) -> IOResult {
        var buffer = [UInt8](repeating: 0, count: 4096)
        let deadline = Date().addingTimeInterval(timeout)
        while true {
            let result = buffer.withUnsafeMutableBytes { connection.read(into: $0) }
            guard result == .wantRead || result == .wantWrite, Date() < deadline else { return result }
            wait([(fd, result == .wantWrite ? Int16(POLLOUT) : Int16(POLLIN))])
        }
    }
}
