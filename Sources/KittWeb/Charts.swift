/// Horizontal bar charts as inline SVG drawn on the server (no script, no inline style:
/// sizes are attributes, colours come from the stylesheet). The best bar is marked.
enum Charts {
    struct Bar: Sendable {
        let label: String
        let value: Double
    }

    /// Lower is better for times and latencies; higher for everything else (throughput, scores).
    static func lowerIsBetter(_ metric: String) -> Bool {
        let name = metric.lowercased()
        return ["latency", "ttft", "time", "_ms", "duration", "_seconds", "_s", "error", "memory"].contains {
            name.contains($0)
        }
    }

    /// The chart twice: beside-the-bar labels for wide screens, labels above the bars for
    /// phones (a narrow drawing keeps its text near full size); the stylesheet shows one.
    static func bars(title: String, bars: [Bar], lowerIsBetter: Bool) -> HTML {
        let finite = bars.filter { $0.value.isFinite }
        let best = lowerIsBetter ? finite.map(\.value).min() : finite.map(\.value).max()
        let scale = finite.map { abs($0.value) }.max() ?? 0
        let marked = bars.map { bar in bar.value.isFinite && bar.value == best && finite.count > 1 }
        return el("figure", .class("chart"), Attribute("data-metric", title)) {
            el("figcaption") {
                title
                el("span", .class("muted small")) { lowerIsBetter ? " (lower is better)" : " (higher is better)" }
            }
            drawing(title: title, bars: bars, best: marked, scale: scale, narrow: false)
            drawing(title: title, bars: bars, best: marked, scale: scale, narrow: true)
        }
    }

    /// Wide: 480 units, label | bar | value on one row. Narrow: 340 units, the label on its
    /// own line above the bar and its value.
    static func drawing(title: String, bars: [Bar], best: [Bool], scale: Double, narrow: Bool) -> HTML {
        let width = narrow ? 340.0 : 480.0
        let labelWidth = narrow ? 0.0 : 205.0, valueWidth = 70.0
        let row = narrow ? 44.0 : 26.0, barTop = narrow ? 22.0 : 3.0
        let barSpace = width - labelWidth - valueWidth
        let height = row * Double(max(bars.count, 1)) + 6
        return el("svg", .class(narrow ? "bars narrow" : "bars wide"),
            Attribute("viewBox", "0 0 \(Int(width)) \(Int(height))"), Attribute("role", "img"),
            Attribute("aria-label", title)) {
            for (index, bar) in bars.enumerated() {
                let y = Double(index) * row + 3
                let length = scale > 0 && bar.value.isFinite ? max(1, abs(bar.value) / scale * barSpace) : 1
                let isBest = best[index]
                el("text", Attribute("x", "0"), Attribute("y", fmt(y + 16))) { narrow ? clip(bar.label, 40) : clip(bar.label) }
                el("rect", .class(isBest ? "bar best" : "bar"), Attribute("x", fmt(labelWidth)), Attribute("y", fmt(y + barTop)),
                    Attribute("width", fmt(length)), Attribute("height", fmt(narrow ? 16 : row - 8)), Attribute("rx", "3")) {
                    el("title") { bar.label + ": " + UI.format(bar.value) + (isBest ? " (best)" : "") }
                }
                el("text", .class("value"), Attribute("x", fmt(labelWidth + length + 4)),
                    Attribute("y", fmt(y + barTop + (narrow ? 13 : 13)))) {
                    UI.format(bar.value) + (isBest ? " ★" : "")
                }
            }
        }
    }

    static func clip(_ label: String, _ limit: Int = 27) -> String {
        label.count > limit ? String(label.prefix(limit - 1)) + "…" : label
    }

    static func fmt(_ value: Double) -> String {
        guard value.isFinite else { return "0" }
        return String(Double(Int(value * 10)) / 10)
    }
}
