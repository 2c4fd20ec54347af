import Testing

@testable import KittHTTP

@Suite("Response head serializer")
struct HTTPResponseSerializerTests {
    func head(_ response: HTTPResponse, version: HTTPVersion = .http11, framing: HTTPResponseSerializer.Framing, keepAlive: Bool)
        -> [String]
    {
        var buffer: [UInt8] = []
        HTTPResponseSerializer.head(response, version: version, framing: framing, keepAlive: keepAlive, into: &buffer)
        let text = String(decoding: buffer, as: UTF8.self)
        #expect(text.hasSuffix("\r\n\r\n"))
        return text.split(separator: "\r\n").map(String.init)
    }

    @Test("status line, Date, Content-Length, Connection: close when not keep-alive")
    func closingHead() {
        var response = HTTPResponse.text("hello")
        response.headers.add(name: "Content-Length", value: "999")  // replaced by the framing
        response.headers.add(name: "Connection", value: "keep-alive")  // replaced by keepAlive
        let lines = head(response, framing: .contentLength(5), keepAlive: false)
        #expect(lines.first == "HTTP/1.1 200 OK")
        #expect(lines.contains { $0.hasPrefix("Date: ") && $0.hasSuffix(" GMT") })
        #expect(lines.filter { $0.lowercased().hasPrefix("content-length:") } == ["Content-Length: 5"])
        #expect(lines.filter { $0.lowercased().hasPrefix("connection:") } == ["Connection: close"])
        #expect(lines.contains("Content-Type: text/plain; charset=utf-8"))
    }

    @Test("keep-alive: no Connection header in 1.1, keep-alive in 1.0; no length until close")
    func keepAliveHeads() {
        let eleven = head(HTTPResponse(status: .notFound), framing: .contentLength(0), keepAlive: true)
        #expect(eleven.first == "HTTP/1.1 404 Not Found")
        #expect(!eleven.contains { $0.lowercased().hasPrefix("connection:") })
        let ten = head(HTTPResponse(), version: .http10, framing: .untilClose, keepAlive: true)
        #expect(ten.contains("Connection: keep-alive"))
        #expect(!ten.contains { $0.lowercased().hasPrefix("content-length:") })
    }
}

@Test func serializerNeverEmitsCRLFInsideAHeaderValue() {
    var headers = HTTPHeaders()
    headers.add(name: "X-Name", value: "evil\r\nSet-Cookie: a=b")
    var buffer: [UInt8] = []
    HTTPResponseSerializer.head(
        HTTPResponse(status: .ok, headers: headers), framing: .contentLength(0), keepAlive: true, into: &buffer)
    let text = String(decoding: buffer, as: UTF8.self)
    #expect(text.contains("X-Name: evilSet-Cookie: a=b\r\n"))
    #expect(!text.contains("\r\nSet-Cookie"))
}
