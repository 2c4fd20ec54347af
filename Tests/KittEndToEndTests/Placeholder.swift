import Testing

@Test func placeholder_KittEndToEndTests() { #expect(Bool(true)) }
