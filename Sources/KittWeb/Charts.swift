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

    static func bars(title: String, bars: [Bar], lowerIsBetter: Bool) -> HTML {
        let finite = bars.filter { $0.value.isFinite }
        let best = lowerIsBetter ? finite.map(\.value).min() : finite.map(\.value).max()
        let scale = finite.map { abs($0.value) }.max() ?? 0
        let width = 480.0, labelWidth = 205.0, valueWidth = 70.0, row = 26.0
        let barSpace = width - labelWidth - valueWidth
        let height = row * Double(max(bars.count, 1)) + 6
        return el("figure", .class("chart"), Attribute("data-metric", title)) {
            el("figcaption") {
                title
                el("span", .class("muted small")) { lowerIsBetter ? " (lower is better)" : " (higher is better)" }
            }
            el("svg", .class("bars"), Attribute("viewBox", "0 0 \(Int(width)) \(Int(height))"), Attribute("role", "img"),
                Attribute("aria-label", title)) {
                for (index, bar) in bars.enumerated() {
                    let y = Double(index) * row + 3
                    let length = scale > 0 && bar.value.isFinite ? max(1, abs(bar.value) / scale * barSpace) : 1
                    let isBest = bar.value.isFinite && bar.value == best && finite.count > 1
                    el("text", Attribute("x", "0"), Attribute("y", fmt(y + 16))) { clip(bar.label) }
                    el("rect", .class(isBest ? "bar best" : "bar"), Attribute("x", fmt(labelWidth)), Attribute("y", fmt(y + 3)),
                        Attribute("width", fmt(length)), Attribute("height", fmt(row - 8)), Attribute("rx", "3")) {
                        el("title") { bar.label + ": " + UI.format(bar.value) + (isBest ? " (best)" : "") }
                    }
                    el("text", .class("value"), Attribute("x", fmt(labelWidth + length + 4)), Attribute("y", fmt(y + 16))) {
                        UI.format(bar.value) + (isBest ? " ★" : "")
                    }
                }
            }
        }
    }

    static func clip(_ label: String) -> String {
        label.count > 27 ? String(label.prefix(26)) + "…" : label
    }

    static func fmt(_ value: Double) -> String {
        guard value.isFinite else { return "0" }
        return String(Double(Int(value * 10)) / 10)
    }
}
