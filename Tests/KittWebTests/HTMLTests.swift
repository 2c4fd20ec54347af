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
        // Drawn twice (wide and phone layouts), each with the one best bar marked.
        let drawings = chart.markup.components(separatedBy: "<svg ").dropFirst()
        #expect(drawings.count == 2)
        #expect(drawings.first?.hasPrefix("class=\"bars wide\"") == true)
        #expect(drawings.last?.hasPrefix("class=\"bars narrow\"") == true)
        for drawing in drawings {
            #expect(drawing.components(separatedBy: "bar best").count == 2)
            #expect(drawing.components(separatedBy: "<rect ").count == 4)
            #expect(drawing.contains("30 ★"))
        }
    }

    @Test func phoneChartsKeepTheirTextLarge() {
        let chart = Charts.bars(title: "m", bars: [.init(label: "a", value: 1), .init(label: "b", value: 2)], lowerIsBetter: false)
        // The phone drawing is 340 units wide, so at 390 px its 14 px text stays about 14 px.
        #expect(chart.markup.contains("class=\"bars narrow\" viewBox=\"0 0 340 "))
        #expect(chart.markup.contains("class=\"bars wide\" viewBox=\"0 0 480 "))
        #expect(AssetStyle.source.contains("svg.bars.wide { display: none; }"))
    }
}
