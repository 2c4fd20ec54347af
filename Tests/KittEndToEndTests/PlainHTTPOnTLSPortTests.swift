import Foundation
import KittTestSupport
import Testing
@testable import KittNet

/// Plain HTTP sent to the TLS port gets a plain-text 400 saying to use https, then a close
/// (SPEC §7.3), instead of a reset; TLS clients are unaffected.
@Suite(.serialized) struct PlainHTTPOnTLSPortTests {
    @Test func plainRequest_getsATextHintToUseHTTPS_thenClose() throws {
        let server = try E2E.server()
        defer { server.stop() }
        for request in ["GET /api/v1/health HTTP/1.1\r\nHost: localhost\r\n\r\n", "OPTIONS * HTTP/1.1\r\nHost: x\r\n\r\n"] {
            let client = try E2E.tcp(server)
            try client.send(request)
            let reply = String(decoding: try client.readUntilClose(timeout: 5), as: UTF8.self)
            #expect(reply.hasPrefix("HTTP/1.1 400 Bad Request\r\n"), "\(reply)")
            #expect(reply.contains("Content-Type: text/plain"))
            #expect(reply.contains("Connection: close"))
            #expect(reply.contains("https://"), "\(reply)")
            #expect(client.peerClosed)
        }
        // TLS on the same port still works.
        #expect(try server.request("GET", "/api/v1/health").status == 200)
    }

    @Test func probe_tellsHTTPMethodsFromATLSRecord() {
        #expect(PlainHTTPProbe.looksLikeHTTP(Array("GET / HT".utf8)[...]))
        #expect(PlainHTTPProbe.looksLikeHTTP(Array("DELETE /".utf8)[...]))
        #expect(PlainHTTPProbe.looksLikeHTTP(Array("PO".utf8)[...]))
        #expect(!PlainHTTPProbe.looksLikeHTTP([0x16, 0x03, 0x01, 0x02, 0x00, 0x01, 0x00, 0x01][...]))
        #expect(!PlainHTTPProbe.looksLikeHTTP(Array("get / HT".utf8)[...]))
        #expect(!PlainHTTPProbe.looksLikeHTTP(Array(" GET".utf8)[...]))
    }
}
