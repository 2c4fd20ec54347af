import Testing

@testable import KittWeb

@Suite struct HTMLTests {
    @Test func textIsEscaped() {
        let html = el("p") { "<script>alert('x')</script> & \"q\"" }
        #expect(html.markup == "<p>&lt;script&gt;alert(&#39;x&#39;)&lt;/script&gt; &amp; &quot;q&quot;</p>")
    }

    @Test func attributeValuesAreEscaped() {
        let html = void("input", .value("\" onfocus=\"alert(1)"), Attribute("data-x", "<b>'"))
        #expect(html.markup == "<input value=\"&quot; onfocus=&quot;alert(1)\" data-x=\"&lt;b&gt;&#39;\">")
    }

    @Test func linksStayOnThisServer() {
        #expect(el("a", .href("javascript:alert(1)")).markup == "<a href=\"#\"></a>")
        #expect(el("a", .href("//evil.example/x")).markup == "<a href=\"#\"></a>")
        #expect(el("a", .href("/\\evil.example")).markup == "<a href=\"#\"></a>")
        #expect(el("a", .href("/agents/a%2Fb")).markup == "<a href=\"/agents/a%2Fb\"></a>")
    }

    @Test func builderControlFlowAndNesting() {
        let names = ["a<", "b"]
        let html = el("ul", .class("x")) {
            for name in names { el("li") { name } }
            if names.isEmpty { "none" } else { el("li", .flag("hidden")) }
        }
        #expect(html.markup == "<ul class=\"x\"><li>a&lt;</li><li>b</li><li hidden></li></ul>")
    }

    @Test func plainTextNeedsNoCopy() {
        #expect(HTML.escape("plain text 123") == "plain text 123")
        #expect(HTML.escape("é✓<") == "é✓&lt;")
    }

    @Test func chartsEscapeLabelsAndMarkTheBest() {
        let chart = Charts.bars(
            title: "throughput.tps<x>",
            bars: [.init(label: "<script>", value: 10), .init(label: "b", value: 30), .init(label: "c", value: .nan)],
            lowerIsBetter: false)
        #expect(!chart.markup.contains("<script>"))
        #expect(chart.markup.contains("&lt;script&gt;"))
        #expect(chart.markup.components(separatedBy: "bar best").count == 2)
        #expect(chart.markup.contains("30 ★"))
    }
}
