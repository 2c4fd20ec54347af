import Foundation
import Glibc
import Synchronization
import KittTestSupport
import Testing

@testable import KittNet

/// Python's `ssl` (with VERIFY_X509_STRICT, as Python 3.13+ does by default) against a tiny
/// one-connection TLS echo server on 127.0.0.1 built from TLSContext/TLSConnection.
@Suite(.serialized, .enabled(if: InstalledTool.exists("python3"), "python3 is not installed (.ci/run installs it)"))
struct TLSPythonTests {
    typealias Support = TLSTestSupport

    /// Accepts `connections` connections one after another on a background thread; for each it
    /// handshakes, echoes one line, closes.
    final class EchoServer: Sendable {
        let listener: Int32
        let port: UInt16
        /// What happened on the server side: "complete TLSv1.3" / "failed: ..." etc.
        let outcome = Mutex<String?>(nil)  // the last connection's
        let finished = DispatchSemaphore(value: 0)

        init(context: TLSContext, connections: Int = 1) throws {
            _ = Support.ignoreSIGPIPE
            let fd = socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
            guard fd >= 0 else { throw TLSError.posix("socket") }
            var address = sockaddr_in()
            address.sin_family = sa_family_t(AF_INET)
            address.sin_addr.s_addr = inet_addr("127.0.0.1")
            address.sin_port = 0
            var length = socklen_t(MemoryLayout<sockaddr_in>.size)
            let bound = withUnsafeMutablePointer(to: &address) { pointer in
                pointer.withMemoryRebound(to: sockaddr.self, capacity: 1) { generic in
                    bind(fd, generic, length) == 0 && listen(fd, 4) == 0 && getsockname(fd, generic, &length) == 0
                }
            }
            guard bound else {
                close(fd)
                throw TLSError.posix("bind/listen")
            }
            listener = fd
            port = UInt16(bigEndian: address.sin_port)
            let thread = Thread { [self] in
                for _ in 0..<connections {
                    let result = self.serveOne(context: context)
                    self.outcome.withLock { $0 = result }
                }
                self.finished.signal()
            }
            thread.start()
        }

        deinit { close(listener) }

        private func serveOne(context: TLSContext) -> String {
            var listenerPoll = [pollfd(fd: listener, events: Int16(POLLIN), revents: 0)]
            guard poll(&listenerPoll, 1, 10_000) == 1 else { return "no connection" }
            let fd = accept(listener, nil, nil)
            guard fd >= 0 else { return "accept failed" }
            defer { close(fd) }
            Support.setNonBlocking(fd)
            guard let connection = try? context.makeConnection(fd: fd) else { return "makeConnection failed" }
            let handshake = Support.handshakeAlone(connection, fd: fd, timeout: 10)
            guard handshake.result == .complete else { return "handshake \(handshake.result)" }
            var line: [UInt8] = []
            var buffer = [UInt8](repeating: 0, count: 1024)
            let deadline = Date().addingTimeInterval(10)
            while line.last != UInt8(ascii: "\n"), Date() < deadline {
                switch buffer.withUnsafeMutableBytes({ connection.read(into: $0) }) {
                case .bytes(let n): line += buffer[0..<n]
                case .wantRead: Support.wait([(fd, Int16(POLLIN))])
                case .wantWrite: Support.wait([(fd, Int16(POLLOUT))])
                case .closed, .failed: return "read failed"
                }
            }
            var sent = 0
            while sent < line.count, Date() < deadline {
                switch line.withUnsafeBytes({ connection.write(UnsafeRawBufferPointer(rebasing: $0[sent...])) }) {
                case .bytes(let n): sent += n
                case .wantWrite: Support.wait([(fd, Int16(POLLOUT))])
                case .wantRead: Support.wait([(fd, Int16(POLLIN))])
                case .closed, .failed: return "write failed"
                }
            }
            connection.shutdown()
            return "complete \(connection.negotiatedProtocol) \(connection.negotiatedCipher ?? "?")"
        }

        /// The server side's outcome, once the thread is done (nil if it hung).
        func wait() -> String? {
            guard finished.wait(timeout: .now() + 15) == .success else { return nil }
            return outcome.withLock { $0 }
        }
    }

    /// Python client: strict verification against `ca`, hostname check on `serverName`.
    static let client = """
        import socket, ssl, sys
        ca, port, name, mode = sys.argv[1], int(sys.argv[2]), sys.argv[3], sys.argv[4]
        ctx = ssl.create_default_context(cafile=ca)
        ctx.verify_flags |= ssl.VERIFY_X509_STRICT
        assert ctx.check_hostname and ctx.verify_mode == ssl.CERT_REQUIRED
        if mode in ("tls12", "resume-tls12"):
            ctx.maximum_version = ssl.TLSVersion.TLSv1_2
        elif mode == "tls12-cbc":
            ctx.maximum_version = ssl.TLSVersion.TLSv1_2
            ctx.set_ciphers("ECDHE-ECDSA-AES128-SHA:ECDHE-ECDSA-AES256-SHA384")
        elif mode == "tls11":
            ctx.minimum_version = ssl.TLSVersion.TLSv1_1
            ctx.maximum_version = ssl.TLSVersion.TLSv1_1
        session = None
        for attempt in range(2 if mode.startswith("resume") else 1):
            with socket.create_connection(("127.0.0.1", port), timeout=10) as raw:
                with ctx.wrap_socket(raw, server_hostname=name, session=session) as s:
                    s.sendall(b"ping\\n")
                    data = b""
                    while not data.endswith(b"\\n"):
                        chunk = s.recv(100)
                        if not chunk:
                            break
                        data += chunk
                    session = s.session
                    if mode.startswith("resume"):
                        print(s.version(), "reused" if s.session_reused else "new")
                    else:
                        print(s.version(), s.cipher()[0], data.decode().strip())
        """

    static func runPython(ca: String, port: UInt16, serverName: String, mode: String = "default") throws -> (
        status: Int32, output: String
    ) {
        try Support.run("/usr/bin/env", ["python3", "-c", client, ca, String(port), serverName, mode])
    }

    @Test func strictPythonClientVerifiesLocalhost() throws {
        let (directory, bundle) = try Support.makeBundle()
        defer { Support.removeBundle(directory) }
        let server = try EchoServer(
            context: TLSContext.server(certificateChainFile: bundle.certificatePath, privateKeyFile: bundle.keyPath))
        let result = try Self.runPython(ca: bundle.caCertificatePath, port: server.port, serverName: "localhost")
        #expect(result.status == 0, "\(result.output)")
        #expect(result.output.hasPrefix("TLSv1.3 "), "\(result.output)")
        #expect(result.output.hasSuffix(" ping\n"), "\(result.output)")
        #expect(server.wait()?.hasPrefix("complete TLSv1.3") == true)
    }

    @Test func strictPythonClientRejectsWrongName() throws {
        let (directory, bundle) = try Support.makeBundle()
        defer { Support.removeBundle(directory) }
        let server = try EchoServer(
            context: TLSContext.server(certificateChainFile: bundle.certificatePath, privateKeyFile: bundle.keyPath))
        let result = try Self.runPython(ca: bundle.caCertificatePath, port: server.port, serverName: "example.org")
        #expect(result.status != 0)
        #expect(result.output.contains("CERTIFICATE_VERIFY_FAILED"), "\(result.output)")
        #expect(server.wait()?.hasPrefix("handshake failed") == true)
    }

    @Test func tls12ClientGetsECDHEWithAEAD() throws {
        let (directory, bundle) = try Support.makeBundle()
        defer { Support.removeBundle(directory) }
        let server = try EchoServer(
            context: TLSContext.server(certificateChainFile: bundle.certificatePath, privateKeyFile: bundle.keyPath))
        let result = try Self.runPython(
            ca: bundle.caCertificatePath, port: server.port, serverName: "127.0.0.1", mode: "tls12")
        #expect(result.status == 0, "\(result.output)")
        #expect(result.output.hasPrefix("TLSv1.2 ECDHE-ECDSA-"), "\(result.output)")
        #expect(result.output.contains("-GCM-") || result.output.contains("CHACHA20"), "\(result.output)")
        #expect(server.wait()?.hasPrefix("complete TLSv1.2") == true)
    }

    @Test(arguments: ["tls12-cbc", "tls11"])
    func weakClientsAreRefused(mode: String) throws {
        let (directory, bundle) = try Support.makeBundle()
        defer { Support.removeBundle(directory) }
        let server = try EchoServer(
            context: TLSContext.server(certificateChainFile: bundle.certificatePath, privateKeyFile: bundle.keyPath))
        let result = try Self.runPython(
            ca: bundle.caCertificatePath, port: server.port, serverName: "localhost", mode: mode)
        #expect(result.status != 0, "\(result.output)")
        #expect(server.wait()?.hasPrefix("handshake failed") == true)
    }

    @Test(arguments: ["default", "tls12"])
    func sessionsResume(mode: String) throws {
        let (directory, bundle) = try Support.makeBundle()
        defer { Support.removeBundle(directory) }
        let context = try TLSContext.server(
            certificateChainFile: bundle.certificatePath, privateKeyFile: bundle.keyPath)
        let server = try EchoServer(context: context, connections: 2)
        let result = try Self.runPython(
            ca: bundle.caCertificatePath, port: server.port, serverName: "localhost",
            mode: mode == "tls12" ? "resume-tls12" : "resume")
        let version = mode == "tls12" ? "TLSv1.2" : "TLSv1.3"
        #expect(result.status == 0, "\(result.output)")
        #expect(result.output == "\(version) new\n\(version) reused\n", "\(result.output)")
        #expect(server.wait()?.hasPrefix("complete \(version)") == true)
    }
}
