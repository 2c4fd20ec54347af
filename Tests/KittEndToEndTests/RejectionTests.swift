import Foundation
import KittJSON
import Synchronization
import KittTestSupport
import Testing

/// One malformed request and the status SPEC §2 names for it.
struct Rejection: Sendable, CustomTestStringConvertible {
    var name: String
    var head: String
    var status: Int
    var testDescription: String { "\(name) → \(status)" }
}

private let post = "POST /api/v1/health HTTP/1.1\r\nHost: localhost\r\n"
private let get = "GET /api/v1/health HTTP/1.1\r\nHost: localhost\r\n"

let rejections: [Rejection] = [
    Rejection(name: "Content-Length with Transfer-Encoding",
              head: post + "Content-Length: 5\r\nTransfer-Encoding: chunked\r\n\r\n0\r\n\r\n", status: 400),
    Rejection(name: "differing Content-Lengths", head: post + "Content-Length: 3\r\nContent-Length: 4\r\n\r\nabcd", status: 400),
    Rejection(name: "unknown transfer coding", head: post + "Transfer-Encoding: gzip, chunked\r\n\r\n0\r\n\r\n", status: 501),
    Rejection(name: "space before colon", head: get + "X-Bad : 1\r\n\r\n", status: 400),
    Rejection(name: "obs-fold", head: get + "X-Long: a\r\n  b\r\n\r\n", status: 400),
    Rejection(name: "missing Host in HTTP/1.1", head: "GET /api/v1/health HTTP/1.1\r\n\r\n", status: 400),
    Rejection(name: "duplicate Host", head: get + "Host: other\r\n\r\n", status: 400),
    Rejection(name: "bare CR", head: "GET /api/v1/health HTTP/1.1\r\nHost: localhost\rX-Y: z\r\n\r\n", status: 400),
    Rejection(name: "bare LF", head: "GET /api/v1/health HTTP/1.1\nHost: localhost\n\n", status: 400),
    Rejection(name: "control character in target", head: "GET /api/v1/\u{01}health HTTP/1.1\r\nHost: localhost\r\n\r\n", status: 400),
    Rejection(name: "non-ASCII in target", head: "GET /api/v1/h\u{e9}alth HTTP/1.1\r\nHost: localhost\r\n\r\n", status: 400),
    Rejection(name: "HTTP/2.0 request line", head: "GET /api/v1/health HTTP/2.0\r\nHost: localhost\r\n\r\n", status: 505),
    Rejection(name: "HTTP/0.9 request line", head: "GET /api/v1/health\r\n\r\n", status: 400),
    Rejection(name: "malformed Content-Length", head: post + "Content-Length: +5\r\n\r\nabcde", status: 400),
    Rejection(name: "bad chunk size", head: post + "Transfer-Encoding: chunked\r\n\r\nzz\r\nabc\r\n0\r\n\r\n", status: 400),
]

/// RFC 9112 rejections through the TLS socket: each gets a JSON error with its status, and the
/// connection is closed (a request after it in the same write is not answered). One server
/// serves every case (each on its own connection); the last case to run stops it.
@Suite(.serialized) struct RejectionTests {
    static let server = Result { try E2E.server() }
    static let finished = Mutex(0)

    @Test(arguments: rejections)
    func isAnsweredWithAJSONErrorAndClosed(_ rejection: Rejection) throws {
        let server = try RejectionTests.server.get()
        defer {
            let done = RejectionTests.finished.withLock { count in
                count += 1
                return count
            }
            if done == rejections.count {
                server.stop()
                // A static is never deinitialized: its data directory would outlive the run.
                try? FileManager.default.removeItem(atPath: server.directory.path)
            }
        }
        let client = try server.connect()
        try client.send(rejection.head + E2E.get("/api/v1/health"))
        let response = try client.readResponse(timeout: 5)
        #expect(response.status == rejection.status)
        #expect(response.headers["Content-Type"] == "application/json")
        #expect(response.errorMessage?.isEmpty == false, "\(response)")
        #expect(response.headers["Connection"]?.lowercased() == "close")
        let rest = try client.readUntilClose(timeout: 5)
        #expect(rest.isEmpty, "answered after the error: \(String(decoding: rest, as: UTF8.self))")
        #expect(client.peerClosed)
        // The server lives on for the next case: this connection's error closed only this connection.
        #expect(try server.request("GET", "/api/v1/health").status == 200)
    }
}
