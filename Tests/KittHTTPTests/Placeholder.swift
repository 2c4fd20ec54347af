import Testing

@Test func placeholder_KittHTTPTests() { #expect(Bool(true)) }
