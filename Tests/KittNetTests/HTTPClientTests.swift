import Foundation
import KittHTTP
import KittTestSupport
import Testing

@testable import KittNet

@Suite(.serialized) struct HTTPClientTests {
    // MARK: URLParts

    @Test func parsesURLs() throws {
        let plain = try URLParts(parsing: "http://devon.local/api/v1/models")
        #expect(plain == URLParts(scheme: "http", host: "devon.local", port: 80, pathAndQuery: "/api/v1/models"))
        #expect(plain.hostHeader == "devon.local")

        let secure = try URLParts(parsing: "HTTPS://example.org:8443?q=1#frag")
        #expect(secure == URLParts(scheme: "https", host: "example.org", port: 8443, pathAndQuery: "/?q=1"))
        #expect(secure.isTLS)
        #expect(secure.hostHeader == "example.org:8443")

        let v6 = try URLParts(parsing: "http://[::1]:9000/x?y=z")
        #expect(v6 == URLParts(scheme: "http", host: "::1", port: 9000, pathAndQuery: "/x?y=z"))
        #expect(v6.hostHeader == "[::1]:9000")
        #expect(try URLParts(parsing: "https://[fe80::1]").port == 443)
    }

    @Test(arguments: [
        "ftp://host/", "devon:8080", "http://", "http://:80/", "http://host:0/", "http://host:99999/",
        "http://host:abc/", "http://user@host/", "http://[::1/", "http://[::1]x/", "http://host/a b",
    ])
    func rejectsBadURLs(_ url: String) {
        #expect(throws: ClientError.self) { try URLParts(parsing: url) }
    }

    // MARK: Responses

    @Test func readsContentLengthResponseAndSendsTheRequest() throws {
        let server = try FakeHTTPServer { request in
            .raw(Array("HTTP/1.1 201 Created\r\nContent-Length: 5\r\nX-Seen: \(request.method)\r\n\r\nhelloEXTRA".utf8))
        }
        defer { server.stop() }
        let client = HTTPClient(connectTimeout: 2, readTimeout: 5)
        let response = try client.send(
            method: "POST", url: server.url + "/api/v1/downloads?x=1", headers: [("Authorization", "Bearer k")],
            body: Array("{\"a\":1}".utf8))
        #expect(response.status == 201)
        #expect(response.body == Array("hello".utf8))
        #expect(response.headers["x-seen"] == "POST")
        let seen = try #require(server.requests.first)
        #expect(seen.method == "POST")
        #expect(seen.target == "/api/v1/downloads?x=1")
        #expect(seen.headers["host"] == "127.0.0.1:\(server.port)")
        #expect(seen.headers["authorization"] == "Bearer k")
        #expect(seen.headers["content-length"] == "7")
        #expect(seen.headers["connection"] == "close")
        #expect(seen.body == Array("{\"a\":1}".utf8))
    }

    @Test func readsChunkedResponse() throws {
        let server = try FakeHTTPServer { _ in
            .raw(
                Array(
                    "HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n4;ext=1\r\nWiki\r\n6\r\npedia \r\nE\r\nin \r\n\r\nchunks.\r\n0\r\nTrailer: x\r\n\r\n"
                        .utf8))
        }
        defer { server.stop() }
        let response = try HTTPClient(readTimeout: 5).send(method: "GET", url: server.url + "/")
        #expect(response.status == 200)
        #expect(String(decoding: response.body, as: UTF8.self) == "Wikipedia in \r\n\r\nchunks.")
    }

    @Test func readsBodyUntilClose() throws {
        let payload = String(repeating: "x", count: 200_000)
        let server = try FakeHTTPServer { _ in .raw(Array("HTTP/1.0 200 OK\r\n\r\n\(payload)".utf8)) }
        defer { server.stop() }
        let response = try HTTPClient(readTimeout: 5).send(method: "GET", url: server.url + "/")
        #expect(response.body.count == 200_000)
    }

    @Test func rejectsResponsesOverTheLimit() throws {
        let server = try FakeHTTPServer { _ in
            .raw(Array("HTTP/1.1 200 OK\r\nContent-Length: 5000\r\n\r\n".utf8) + [UInt8](repeating: 65, count: 5000))
        }
        defer { server.stop() }
        let client = HTTPClient(readTimeout: 5, maxResponseBytes: 1024)
        #expect(throws: ClientError.tooLarge) { try client.send(method: "GET", url: server.url + "/") }

        let endless = try FakeHTTPServer { _ in
            .raw(Array("HTTP/1.1 200 OK\r\n\r\n".utf8) + [UInt8](repeating: 66, count: 100_000))
        }
        defer { endless.stop() }
        #expect(throws: ClientError.tooLarge) { try client.send(method: "GET", url: endless.url + "/") }
    }

    @Test func rejectsGarbageResponses() throws {
        let server = try FakeHTTPServer { _ in .raw(Array("SSH-2.0-OpenSSH\r\n\r\n".utf8)) }
        defer { server.stop() }
        do {
            _ = try HTTPClient(readTimeout: 5).send(method: "GET", url: server.url + "/")
            Issue.record("expected a malformed response error")
        } catch {
            guard case .malformed = error else {
                Issue.record("got \(error)")
                return
            }
        }
    }

    @Test func timesOutWhenTheResponseNeverComes() throws {
        let server = try FakeHTTPServer { _ in .hang }
        defer { server.stop() }
        let started = Date()
        do {
            _ = try HTTPClient(connectTimeout: 2, readTimeout: 0.5).send(method: "GET", url: server.url + "/")
            Issue.record("expected a timeout")
        } catch {
            guard case .timeout = error else {
                Issue.record("got \(error)")
                return
            }
        }
        let elapsed = Date().timeIntervalSince(started)
        #expect(elapsed >= 0.4 && elapsed < 3)
    }

    @Test func failsToConnectToAClosedPort() throws {
        let fd = try Socket.listen(host: "127.0.0.1", port: 0)
        let port = Socket.localPort(fd)
        close(fd)
        do {
            _ = try HTTPClient(connectTimeout: 2).send(method: "GET", url: "http://127.0.0.1:\(port)/")
            Issue.record("expected connection refused")
        } catch {
            guard case .connectFailed(let why) = error else {
                Issue.record("got \(error)")
                return
            }
            #expect(why.contains("refused"))
        }
    }

    @Test func refusesHeaderInjection() throws {
        #expect(throws: ClientError.self) {
            try HTTPClient().send(method: "GET", url: "http://127.0.0.1:1/", headers: [("X", "a\r\nEvil: 1")])
        }
        #expect(throws: ClientError.self) {
            try HTTPClient().send(method: "GET", url: "http://127.0.0.1:1/", headers: [("Bad Name", "v")])
        }
        #expect(throws: ClientError.self) { try HTTPClient().send(method: "G T", url: "http://127.0.0.1:1/") }
    }

    // MARK: https

    @Test func speaksHTTPSVerifyingTheCAAndHostName() throws {
        let directory = TempDirectory("kitt-client-tls")
        let bundle = try CertificateAuthority.ensure(directory: directory.path + "/certs", hostNames: [])
        let serverContext = try TLSContext.server(
            certificateChainFile: bundle.certificatePath, privateKeyFile: bundle.keyPath)
        let server = try FakeHTTPServer(tls: serverContext) { request in
            .json(200, "{\"path\":\"\(request.target)\"}")
        }
        defer { server.stop() }
        let trusting = HTTPClient(tls: try TLSContext.client(caFile: bundle.caCertificatePath), readTimeout: 5)

        let byName = try trusting.send(method: "GET", url: "https://localhost:\(server.port)/a?b=c")
        #expect(byName.status == 200)
        #expect(String(decoding: byName.body, as: UTF8.self) == "{\"path\":\"/a?b=c\"}")
        let byIP = try trusting.send(method: "GET", url: "https://127.0.0.1:\(server.port)/ip")
        #expect(byIP.status == 200)

        // Same server, an address the certificate does not name (0.0.0.0 reaches loopback on Linux).
        do {
            _ = try trusting.send(method: "GET", url: "https://0.0.0.0:\(server.port)/")
            Issue.record("expected a host name mismatch")
        } catch {
            guard case .tls = error else {
                Issue.record("got \(error)")
                return
            }
        }
        // The system trust store does not know kitt's CA.
        do {
            _ = try HTTPClient(readTimeout: 5).send(method: "GET", url: "https://localhost:\(server.port)/")
            Issue.record("expected a verification failure")
        } catch {
            guard case .tls = error else {
                Issue.record("got \(error)")
                return
            }
        }
    }
}
