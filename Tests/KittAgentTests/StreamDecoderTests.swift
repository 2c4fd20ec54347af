import Testing

@testable import KittAgent

@Suite struct StreamDecoderTests {
    static let sse = "data: {\"choices\":[{\"text\":\"Hi\"}]}\n\n: comment\r\ndata: [DONE]\r\n\r\n"

    @Test func sseDataLinesAtOnceAndByteByByte() {
        var once = SSEDataLines()
        #expect(once.feed(Array(Self.sse.utf8)) == ["{\"choices\":[{\"text\":\"Hi\"}]}", "[DONE]"])
        var slow = SSEDataLines()
        var lines: [String] = []
        for byte in Self.sse.utf8 { lines += slow.feed([byte]) }
        #expect(lines == ["{\"choices\":[{\"text\":\"Hi\"}]}", "[DONE]"])
    }
}
