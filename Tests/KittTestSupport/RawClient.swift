import Foundation
import KittHTTP
import KittNet

/// A blocking client that sends exact bytes and reads responses with deadlines, over plain
/// TCP or TLS (trusting a given CA, checking the host name). For tests: every wait is bounded,
/// so a hung server fails the test instead of hanging the run.
public final class RawClient {
    public struct Failure: Error, CustomStringConvertible {
        public let description: String
        init(_ description: String) { self.description = description }
    }

    public let fd: Int32
    private let tls: TLSConnection?
    private var pending: [UInt8] = []
    public private(set) var peerClosed = false

    /// Connects to 127.0.0.1:port (from `source`, another loopback address, when given); with
    /// `caFile`, speaks TLS to `serverName`.
    public init(
        port: Int, caFile: String? = nil, serverName: String = "localhost", timeout: Double = 10, source: String? = nil
    ) throws {
        fd = try Socket.connect(host: "127.0.0.1", port: port, timeout: timeout, source: source)
        if let caFile {
            let context = try TLSContext.client(caFile: caFile)
            let connection = try context.makeConnection(fd: fd, serverName: serverName)
            let deadline = Date().addingTimeInterval(timeout)
            handshake: while true {
                switch connection.handshake() {
                case .complete: break handshake
                case .wantRead: try RawClient.wait(fd, POLLIN, until: deadline)
                case .wantWrite: try RawClient.wait(fd, POLLOUT, until: deadline)
                case .failed(let reason):
                    close(fd)
                    throw Failure("TLS handshake failed: \(reason)")
                }
            }
            tls = connection
        } else {
            tls = nil
        }
    }

    deinit {
        tls?.shutdown()
        close(fd)
    }

    public func send(_ text: String, timeout: Double = 10) throws { try send(Array(text.utf8), timeout: timeout) }

    public func send(_ bytes: [UInt8], timeout: Double = 10) throws {
        let deadline = Date().addingTimeInterval(timeout)
        var offset = 0
        while offset < bytes.count {
            let outcome: IOResult = bytes[offset...].withUnsafeBytes { raw in
                if let tls { return tls.write(raw) }
                let n = Glibc.send(fd, raw.baseAddress, raw.count, Int32(MSG_NOSIGNAL))
                if n >= 0 { return .bytes(n) }
                return errno == EAGAIN ? .wantWrite : .failed(String(cString: strerror(errno)))
            }
            switch outcome {
            case .bytes(let n): offset += n
            case .wantWrite: try RawClient.wait(fd, POLLOUT, until: deadline)
            case .wantRead: try RawClient.wait(fd, POLLIN, until: deadline)
            case .closed: throw Failure("peer closed while sending")
            case .failed(let reason): throw Failure("send failed: \(reason)")
            }
        }
    }

    /// Reads some bytes (at least one) or returns [] when the peer closed.
    public func readSome(timeout: Double = 10) throws -> [UInt8] {
        let deadline = Date().addingTimeInterval(timeout)
        var buffer = [UInt8](repeating: 0, count: 65536)
        while true {
            let outcome: IOResult = buffer.withUnsafeMutableBytes { raw in
                if let tls { return tls.read(into: raw) }
                let n = Glibc.read(fd, raw.baseAddress, raw.count)
                if n > 0 { return .bytes(n) }
                if n == 0 { return .closed }
                if errno == EAGAIN { return .wantRead }
                if errno == ECONNRESET { return .closed }
                return .failed(String(cString: strerror(errno)))
            }
            switch outcome {
            case .bytes(let n): return Array(buffer[0..<n])
            case .wantRead: try RawClient.wait(fd, POLLIN, until: deadline)
            case .wantWrite: try RawClient.wait(fd, POLLOUT, until: deadline)
            case .closed:
                peerClosed = true
                return []
            case .failed(let reason): throw Failure("read failed: \(reason)")
            }
        }
    }

    /// Reads one complete response (pipelined responses come out one call at a time). On a
    /// failure the bytes received stay buffered for the next read.
    public func readResponse(timeout: Double = 10, isHead: Bool = false) throws -> TestResponse {
        let deadline = Date().addingTimeInterval(timeout)
        var parser = HTTPResponseParser(isHeadRequest: isHead)
        try parser.append(pending)
        while true {
            if let response = try parser.complete(peerClosed: peerClosed) {
                pending = parser.bytesAfterResponse
                return TestResponse(status: response.status, headers: response.headers, body: response.body)
            }
            let remaining = deadline.timeIntervalSinceNow
            if remaining <= 0 { throw Failure("timed out waiting for a response") }
            let bytes = try readSome(timeout: remaining)
            pending.append(contentsOf: bytes)
            try parser.append(bytes)
        }
    }

    /// Reads until the peer closes (or the timeout), returning everything.
    public func readUntilClose(timeout: Double = 10) throws -> [UInt8] {
        let deadline = Date().addingTimeInterval(timeout)
        var all = pending
        pending = []
        while !peerClosed {
            let remaining = deadline.timeIntervalSinceNow
            if remaining <= 0 { throw Failure("timed out waiting for close") }
            all.append(contentsOf: try readSome(timeout: remaining))
        }
        return all
    }

    /// Reads until `marker` appears in the bytes received so far (for SSE); returns them all.
    public func readUntil(_ marker: String, timeout: Double = 10) throws -> String {
        let deadline = Date().addingTimeInterval(timeout)
        let needle = Array(marker.utf8)
        while true {
            if pending.count >= needle.count,
                (0...(pending.count - needle.count)).contains(where: { pending[$0..<($0 + needle.count)].elementsEqual(needle) })
            {
                return String(decoding: pending, as: UTF8.self)
            }
            if peerClosed { throw Failure("closed before '\(marker)'; got: \(String(decoding: pending, as: UTF8.self))") }
            let remaining = deadline.timeIntervalSinceNow
            if remaining <= 0 {
                throw Failure("timed out waiting for '\(marker)'; got: \(String(decoding: pending, as: UTF8.self))")
            }
            pending.append(contentsOf: try readSome(timeout: remaining))
        }
    }

    /// Everything received and not yet consumed.
    public var buffered: String { String(decoding: pending, as: UTF8.self) }

    static func wait(_ fd: Int32, _ events: Int32, until deadline: Date) throws {
        let remaining = deadline.timeIntervalSinceNow
        guard remaining > 0, Socket.waitUntil(fd, events: Int16(events), timeout: remaining) else {
            throw Failure("timed out")
        }
    }
}
