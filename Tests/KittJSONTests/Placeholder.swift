import Testing

@Test func placeholder_KittJSONTests() { #expect(Bool(true)) }
