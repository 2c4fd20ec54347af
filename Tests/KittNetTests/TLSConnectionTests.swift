import Foundation
import Glibc
import Testing

@testable import KittNet

/// Handshakes and I/O over non-blocking socketpairs, both ends stepped by one poll loop.
@Suite(.serialized)
struct TLSConnectionTests {
    typealias Support = TLSTestSupport

    /// Both ends of one TLS session over a socketpair; closes the fds when done.
    final class Pair {
        let fds: (client: Int32, server: Int32)
        let client: TLSConnection
        let server: TLSConnection

        init(serverContext: TLSContext, clientContext: TLSContext, serverName: String?) throws {
            fds = Support.socketPair()
            server = try serverContext.makeConnection(fd: fds.server)
            client = try clientContext.makeConnection(fd: fds.client, serverName: serverName)
        }

        func handshake() -> (client: TLSHandshakeResult, server: TLSHandshakeResult, timedOut: Bool) {
            Support.handshake(client: client, clientFD: fds.client, server: server, serverFD: fds.server)
        }

        deinit {
            close(fds.client)
            close(fds.server)
        }
    }

    static func contexts(hostNames: [String] = ["kitt.test"]) throws -> (
        directory: String, server: TLSContext, client: TLSContext
    ) {
        let (directory, bundle) = try Support.makeBundle(hostNames: hostNames)
        let server = try TLSContext.server(certificateChainFile: bundle.certificatePath, privateKeyFile: bundle.keyPath)
        let client = try TLSContext.client(caFile: bundle.caCertificatePath)
        return (directory, server, client)
    }

    @Test(arguments: ["localhost", "127.0.0.1", "::1", "[::1]", "kitt.test", "KITT.test"])
    func handshakeSucceedsForCertifiedNames(serverName: String) throws {
        let (directory, server, client) = try Self.contexts()
        defer { Support.removeBundle(directory) }
        let pair = try Pair(serverContext: server, clientContext: client, serverName: serverName)
        let result = pair.handshake()
        #expect(result.client == .complete)
        #expect(result.server == .complete)
        #expect(pair.client.negotiatedProtocol == "TLSv1.3")
        #expect(pair.server.negotiatedProtocol == "TLSv1.3")
        #expect(
            pair.client.negotiatedCipher?.hasPrefix("TLS_AES_") == true
                || pair.client.negotiatedCipher?.hasPrefix("TLS_CHACHA20") == true)
    }

    @Test(arguments: [
        ("example.org", "hostname mismatch"),
        ("sub.localhost", "hostname mismatch"),
        ("127.0.0.2", "IP address mismatch"),
        ("::2", "IP address mismatch"),
    ])
    func handshakeFailsForOtherNames(serverName: String, reason: String) throws {
        let (directory, server, client) = try Self.contexts()
        defer { Support.removeBundle(directory) }
        let pair = try Pair(serverContext: server, clientContext: client, serverName: serverName)
        let result = pair.handshake()
        #expect(!result.timedOut)
        guard case .failed(let message) = result.client else {
            Issue.record("client handshake: \(result.client)")
            return
        }
        #expect(message.contains("certificate verify failed"), "\(message)")
        #expect(message.contains(reason), "\(message)")
        if case .failed = result.server {
        } else {
            Issue.record("server should see the client's alert: \(result.server)")
        }
    }

    @Test(arguments: [true, false])
    func handshakeFailsWhenClientDoesNotTrustTheCA(useSystemStore: Bool) throws {
        let (directory, server, _) = try Self.contexts()
        defer { Support.removeBundle(directory) }
        let (otherDirectory, other) = try Support.makeBundle()
        defer { Support.removeBundle(otherDirectory) }
        let client = try TLSContext.client(caFile: useSystemStore ? nil : other.caCertificatePath)
        let pair = try Pair(serverContext: server, clientContext: client, serverName: "localhost")
        let result = pair.handshake()
        #expect(!result.timedOut)
        guard case .failed(let message) = result.client else {
            Issue.record("client handshake: \(result.client)")
            return
        }
        #expect(message.contains("certificate verify failed"), "\(message)")
        #expect(message.contains("unable to get local issuer certificate"), "\(message)")
    }

    @Test func bytesFlowBothWaysIncludingOneMiBWithPartialWrites() throws {
        let (directory, server, client) = try Self.contexts()
        defer { Support.removeBundle(directory) }
        let pair = try Pair(serverContext: server, clientContext: client, serverName: "localhost")
        let handshake = pair.handshake()
        try #require(handshake.client == .complete && handshake.server == .complete)

        let request = Array("GET / HTTP/1.1\r\nHost: localhost\r\n\r\n".utf8)
        let up = Support.transfer(
            request, from: pair.client, writerFD: pair.fds.client, to: pair.server, readerFD: pair.fds.server)
        #expect(up.failure == nil)
        #expect(up.received == request)

        var generator = SystemRandomNumberGenerator()
        let big = (0..<(1 << 20)).map { _ in UInt8.random(in: 0...255, using: &generator) }
        let down = Support.transfer(
            big, from: pair.server, writerFD: pair.fds.server, to: pair.client, readerFD: pair.fds.client)
        #expect(down.failure == nil)
        #expect(down.received.count == big.count)
        #expect(down.received == big)
        // The socket buffer is far smaller than 1 MiB, so writes must have been cut short.
        #expect(down.partialWrites + down.wantWrites > 0)
        #expect(down.partialWrites > 0)

        let bigUp = Support.transfer(
            big, from: pair.client, writerFD: pair.fds.client, to: pair.server, readerFD: pair.fds.server)
        #expect(bigUp.failure == nil)
        #expect(bigUp.received == big)
    }

    @Test func closeNotifyReadsAsClosed() throws {
        let (directory, server, client) = try Self.contexts()
        defer { Support.removeBundle(directory) }
        let pair = try Pair(serverContext: server, clientContext: client, serverName: "localhost")
        let handshake = pair.handshake()
        try #require(handshake.client == .complete && handshake.server == .complete)
        pair.server.shutdown()
        pair.server.shutdown()  // a second call is harmless
        #expect(Support.readNext(pair.client, fd: pair.fds.client) == .closed)
    }

    @Test func tcpEOFWithoutCloseNotifyReadsAsClosed() throws {
        let (directory, server, client) = try Self.contexts()
        defer { Support.removeBundle(directory) }
        let pair = try Pair(serverContext: server, clientContext: client, serverName: "localhost")
        let handshake = pair.handshake()
        try #require(handshake.client == .complete && handshake.server == .complete)
        Glibc.shutdown(pair.fds.server, Int32(SHUT_RDWR))
        #expect(Support.readNext(pair.client, fd: pair.fds.client) == .closed)
        pair.client.shutdown()  // after EOF: must not crash or block
    }

    @Test func readBeforeDataIsWantRead() throws {
        let (directory, server, client) = try Self.contexts()
        defer { Support.removeBundle(directory) }
        let pair = try Pair(serverContext: server, clientContext: client, serverName: "localhost")
        try #require(pair.handshake().server == .complete)
        var buffer = [UInt8](repeating: 0, count: 16)
        #expect(buffer.withUnsafeMutableBytes { pair.server.read(into: $0) } == .wantRead)
        #expect(!pair.server.hasPendingData)
        #expect(
            buffer.withUnsafeMutableBytes { pair.server.read(into: UnsafeMutableRawBufferPointer(rebasing: $0[0..<0])) }
                == .bytes(0))
    }

    @Test(arguments: [
        Array("GET / HTTP/1.1\r\nHost: localhost\r\n\r\n".utf8),
        [0x16, 0x03, 0x01, 0x00, 0x05] + Array("hello".utf8),
        [0x16, 0x03, 0x01, 0x40, 0x00] + Array(repeating: 0xAB, count: 100),  // promises 16 KiB, then EOF
        Array(repeating: 0x00, count: 64),
        [],  // connect and close at once
    ])
    func garbageFailsTheServerHandshake(garbage: [UInt8]) throws {
        let (directory, server, _) = try Self.contexts()
        defer { Support.removeBundle(directory) }
        let fds = Support.socketPair()
        defer {
            close(fds.client)
            close(fds.server)
        }
        let connection = try server.makeConnection(fd: fds.server)
        if !garbage.isEmpty {
            #expect(garbage.withUnsafeBytes { Glibc.write(fds.client, $0.baseAddress, $0.count) } == garbage.count)
        }
        Glibc.shutdown(fds.client, Int32(SHUT_WR))
        let outcome = Support.handshakeAlone(connection, fd: fds.server)
        #expect(!outcome.timedOut)
        guard case .failed(let message) = outcome.result else {
            Issue.record("server handshake: \(outcome.result)")
            return
        }
        #expect(!message.isEmpty)
        connection.shutdown()  // after a fatal error: a no-op
    }

    @Test func contextsRejectBadFiles() throws {
        let (directory, bundle) = try Support.makeBundle()
        defer { Support.removeBundle(directory) }
        #expect(throws: TLSError.self) {
            try TLSContext.server(certificateChainFile: directory + "/missing.pem", privateKeyFile: bundle.keyPath)
        }
        #expect(throws: TLSError.self) {  // key of the CA, certificate of the server: mismatch
            try TLSContext.server(certificateChainFile: bundle.certificatePath, privateKeyFile: bundle.caKeyPath)
        }
        #expect(throws: TLSError.self) { try TLSContext.client(caFile: directory + "/missing.pem") }
        do {
            _ = try TLSContext.server(certificateChainFile: bundle.certificatePath, privateKeyFile: bundle.caKeyPath)
        } catch {
            #expect(error.operation.hasPrefix("SSL_CTX_use_PrivateKey_file("), "\(error)")
            #expect(!error.stack.isEmpty)
            #expect(error.description.contains("key values mismatch"), "\(error)")
        }
    }
}
