import Testing

@Test func placeholder_KittAPITests() { #expect(Bool(true)) }
