import Testing

@testable import KittAgent

@Suite struct StreamDecoderTests {
    static let sse = "data: {\"choices\":[{\"text\":\"Hi\"}]}\n\n: comment\r\ndata: [DONE]\r\n\r\n"
    static let chunked = Array("5\r\nhello\r\n7;ext=1\r\n, world\r\n0\r\nX-Trailer: 1\r\n\r\n".utf8)

    @Test func chunkedAtOnceAndByteByByte() throws {
        var once = ChunkedDecoder()
        #expect(String(decoding: try once.feed(Self.chunked), as: UTF8.self) == "hello, world")
        #expect(once.isDone)
        var slow = ChunkedDecoder()
        var out: [UInt8] = []
        for byte in Self.chunked { out += try slow.feed([byte]) }
        #expect(String(decoding: out, as: UTF8.self) == "hello, world")
        #expect(slow.isDone)
        var bad = ChunkedDecoder()
        #expect(throws: EngineError.self) { try bad.feed(Array("zz\r\n".utf8)) }
    }

    @Test func sseDataLinesAtOnceAndByteByByte() {
        var once = SSEDataLines()
        #expect(once.feed(Array(Self.sse.utf8)) == ["{\"choices\":[{\"text\":\"Hi\"}]}", "[DONE]"])
        var slow = SSEDataLines()
        var lines: [String] = []
        for byte in Self.sse.utf8 { lines += slow.feed([byte]) }
        #expect(lines == ["{\"choices\":[{\"text\":\"Hi\"}]}", "[DONE]"])
    }
}
