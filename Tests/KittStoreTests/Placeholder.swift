import Testing

@Test func placeholder_KittStoreTests() { #expect(Bool(true)) }
