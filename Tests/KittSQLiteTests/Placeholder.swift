import Testing

@Test func placeholder_KittSQLiteTests() { #expect(Bool(true)) }
