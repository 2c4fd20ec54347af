import Foundation
import KittNet
import Synchronization

/// A canned-response HTTP server inside the test process, on 127.0.0.1:<ephemeral>, for
/// exercising outbound clients (HTTPClient, Devon). Plain blocking code on its own threads
/// (never Swift concurrency): one accept thread, one thread per connection. Optional TLS.
public final class FakeHTTPServer: Sendable {
    /// A request as the fake server received it.
    public struct Request: Sendable {
        public let method: String
        public let target: String
        /// Header names lowercased.
        public let headers: [String: String]
        public let body: [UInt8]
    }

    /// What to do with a request.
    public enum Reply: Sendable {
        /// A JSON body with Content-Length.
        case json(Int, String)
        /// Exactly these bytes, then close.
        case raw([UInt8])
        /// Never answer (until the server stops).
        case hang
    }

    public let port: Int
    private let listener: Int32
    private let stopped = Atomic<Bool>(false)
    private let received = Mutex<[Request]>([])
    private let handler: @Sendable (Request) -> Reply
    private let tls: TLSContext?

    public init(tls: TLSContext? = nil, handler: @escaping @Sendable (Request) -> Reply) throws {
        _ = signal(SIGPIPE, SIG_IGN)
        listener = try Socket.listen(host: "127.0.0.1", port: 0)
        port = Socket.localPort(listener)
        self.handler = handler
        self.tls = tls
        let thread = Thread { [self] in acceptLoop() }
        thread.start()
    }

    deinit { stop() }

    public var url: String { "\(tls == nil ? "http" : "https")://127.0.0.1:\(port)" }

    /// Every request received so far, in order.
    public var requests: [Request] { received.withLock { $0 } }

    public func stop() {
        if stopped.exchange(true, ordering: .acquiringAndReleasing) { return }
        // Only wake the accept thread: it closes the fd itself. Closing here would let the
        // number be reused (by another test's listener) while that thread still polls it.
        shutdown(listener, Int32(SHUT_RDWR))
    }

    private func acceptLoop() {
        defer { close(listener) }
        while !stopped.load(ordering: .acquiring) {
            guard Socket.waitUntil(listener, events: Int16(POLLIN), timeout: 0.05) else { continue }
            guard let accepted = try? Socket.accept(listener) else { continue }
            let fd = accepted.fd
            Thread { [self] in
                serve(fd)
                close(fd)
            }.start()
        }
    }

    private func serve(_ fd: Int32) {
        var connection: TLSConnection?
        if let tls {
            guard let made = try? tls.makeConnection(fd: fd) else { return }
            connection = made
            handshake: while true {
                switch made.handshake() {
                case .complete: break handshake
                case .wantRead: if !waitFor(fd, POLLIN) { return }
                case .wantWrite: if !waitFor(fd, POLLOUT) { return }
                case .failed: return
                }
            }
        }
        var buffer: [UInt8] = []
        var chunk = [UInt8](repeating: 0, count: 16 * 1024)
        // Read the head, then Content-Length bytes of body.
        var request: Request?
        while request == nil {
            guard let n = readSome(fd, connection, &chunk) else { return }
            buffer += chunk[0..<n]
            request = FakeHTTPServer.parse(buffer)
        }
        guard let request else { return }
        received.withLock { $0.append(request) }
        switch handler(request) {
        case .hang:
            while !stopped.load(ordering: .acquiring) { usleep(20_000) }
        case .raw(let bytes):
            writeAll(fd, connection, bytes)
        case .json(let status, let body):
            let bytes = Array(body.utf8)
            let head =
                "HTTP/1.1 \(status) X\r\nContent-Type: application/json\r\nContent-Length: \(bytes.count)\r\nConnection: close\r\n\r\n"
            writeAll(fd, connection, Array(head.utf8) + bytes)
        }
        connection?.shutdown()
    }

    private func waitFor(_ fd: Int32, _ events: Int32) -> Bool {
        while !stopped.load(ordering: .acquiring) {
            if Socket.waitUntil(fd, events: Int16(events), timeout: 0.05) { return true }
        }
        return false
    }

    private func readSome(_ fd: Int32, _ tls: TLSConnection?, _ chunk: inout [UInt8]) -> Int? {
        while true {
            if let tls {
                switch chunk.withUnsafeMutableBytes({ tls.read(into: $0) }) {
                case .bytes(let n) where n > 0: return n
                case .wantRead: if !waitFor(fd, POLLIN) { return nil }
                case .wantWrite: if !waitFor(fd, POLLOUT) { return nil }
                default: return nil
                }
            } else {
                let n = chunk.withUnsafeMutableBytes { recv(fd, $0.baseAddress, $0.count, 0) }
                if n > 0 { return n }
                if n == 0 { return nil }
                if errno == EAGAIN || errno == EINTR { if !waitFor(fd, POLLIN) { return nil } } else { return nil }
            }
        }
    }

    private func writeAll(_ fd: Int32, _ tls: TLSConnection?, _ bytes: [UInt8]) {
        var offset = 0
        while offset < bytes.count {
            if let tls {
                switch bytes.withUnsafeBytes({ tls.write(UnsafeRawBufferPointer(rebasing: $0[offset...])) }) {
                case .bytes(let n): offset += n
                case .wantRead: if !waitFor(fd, POLLIN) { return }
                case .wantWrite: if !waitFor(fd, POLLOUT) { return }
                default: return
                }
            } else {
                let n = bytes.withUnsafeBytes {
                    send(fd, $0.baseAddress! + offset, bytes.count - offset, Int32(MSG_NOSIGNAL))
                }
                if n > 0 {
                    offset += n
                } else if n < 0 && (errno == EAGAIN || errno == EINTR) {
                    if !waitFor(fd, POLLOUT) { return }
                } else {
                    return
                }
            }
        }
    }

    static func parse(_ buffer: [UInt8]) -> Request? {
        guard let end = buffer.firstRange(of: [13, 10, 13, 10]) else { return nil }
        let head = String(decoding: buffer[..<end.lowerBound], as: UTF8.self)
        var lines = head.components(separatedBy: "\r\n")
        let requestLine = lines.removeFirst().split(separator: " ")
        var headers: [String: String] = [:]
        for line in lines {
            guard let colon = line.firstIndex(of: ":") else { continue }
            headers[line[..<colon].lowercased()] = line[line.index(after: colon)...].trimmingCharacters(
                in: .whitespaces)
        }
        let length = Int(headers["content-length"] ?? "0") ?? 0
        let body = buffer[end.upperBound...]
        guard body.count >= length, requestLine.count >= 2 else { return nil }
        return Request(
            method: String(requestLine[0]), target: String(requestLine[1]), headers: headers,
            body: Array(body.prefix(length)))
    }
}
