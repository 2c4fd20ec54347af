import KittHTTP
import Testing

/// The one HTML escaper (web UI and legacy dashboard).
@Suite struct HTMLEscapingTests {
    @Test(arguments: [
        ("plain text", "plain text"),
        ("<script>alert(1)</script>", "&lt;script&gt;alert(1)&lt;/script&gt;"),
        (#"a"b'c&d"#, "a&quot;b&#39;c&amp;d"),
        ("nul\u{0}here", "nul\u{FFFD}here"),
        ("é ü 模型 🙂", "é ü 模型 🙂"),
        ("", ""),
    ])
    func escapes(_ input: String, _ expected: String) {
        #expect(HTMLEscaping.escape(input) == expected)
    }
}
