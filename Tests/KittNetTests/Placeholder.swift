import Testing

@Test func placeholder_KittNetTests() { #expect(Bool(true)) }
