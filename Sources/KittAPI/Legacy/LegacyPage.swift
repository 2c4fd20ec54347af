import KittHTTP
import KittStore

/// The legacy dashboard's HTML: one self-contained page (inline CSS, no scripts). Every value
/// that comes from data or the request goes through `escape`.
enum LegacyPage {
    static func render(
        runs: [LegacyQueries.Run], total: Int, passed: Int, models: [String], engines: [String], selectedModel: String?,
        selectedEngine: String?, version: String
    ) -> String {
        var html = """
            <!DOCTYPE html>
            <html lang="en">
            <head>
            <meta charset="utf-8">
            <meta name="viewport" content="width=device-width, initial-scale=1">
            <title>KITT results</title>
            <style>
            :root { --ink: #1f2933; --muted: #616e7c; --line: #e4e7eb; --bg: #f5f7fa; --accent: #2f6fdf; }
            * { box-sizing: border-box; }
            body { margin: 0; font: 15px/1.5 system-ui, -apple-system, "Segoe UI", Roboto, sans-serif;
                   color: var(--ink); background: var(--bg); }
            header { background: #1f2933; color: #fff; padding: 18px 32px; }
            header h1 { margin: 0; font-size: 20px; font-weight: 600; letter-spacing: .02em; }
            header p { margin: 2px 0 0; color: #cbd2d9; font-size: 13px; }
            main { padding: 24px 32px 40px; max-width: 1280px; margin: 0 auto; }
            form.filters { display: flex; flex-wrap: wrap; gap: 12px; align-items: end; margin-bottom: 18px; }
            form.filters label { display: flex; flex-direction: column; font-size: 12px; color: var(--muted);
                                 text-transform: uppercase; letter-spacing: .04em; }
            select, button, a.button { font: inherit; padding: 6px 10px; border: 1px solid #cbd2d9;
                                       border-radius: 6px; background: #fff; color: var(--ink); min-width: 180px; }
            button, a.button { min-width: 0; cursor: pointer; text-decoration: none; }
            button { background: var(--accent); border-color: var(--accent); color: #fff; }
            .summary { display: flex; gap: 12px; margin-bottom: 18px; flex-wrap: wrap; }
            .card { background: #fff; border: 1px solid var(--line); border-radius: 8px; padding: 10px 16px;
                    min-width: 130px; }
            .card b { display: block; font-size: 22px; }
            .card span { font-size: 12px; color: var(--muted); text-transform: uppercase; letter-spacing: .04em; }
            table { width: 100%; border-collapse: collapse; background: #fff; border: 1px solid var(--line);
                    border-radius: 8px; overflow: hidden; }
            th, td { text-align: left; padding: 9px 12px; border-bottom: 1px solid var(--line); }
            th { background: #f0f4f8; font-size: 12px; color: var(--muted); text-transform: uppercase;
                 letter-spacing: .04em; }
            tbody tr:hover { background: #f8fafc; }
            td.num { text-align: right; font-variant-numeric: tabular-nums; }
            td.model { font-weight: 600; word-break: break-word; }
            .badge { display: inline-block; padding: 1px 8px; border-radius: 999px; font-size: 12px;
                     font-weight: 700; letter-spacing: .05em; }
            .pass { background: #e3f9e5; color: #1f7a33; }
            .fail { background: #ffe3e3; color: #b42318; }
            .empty { padding: 32px; text-align: center; color: var(--muted); background: #fff;
                     border: 1px solid var(--line); border-radius: 8px; }
            .note { color: var(--muted); font-size: 13px; margin-top: 10px; }
            footer { color: var(--muted); font-size: 12px; margin-top: 24px; }
            footer a { color: var(--accent); }
            </style>
            </head>
            <body>
            <header><h1>KITT results</h1><p>Read-only dashboard &middot; kitt \(escape(version))</p></header>
            <main>
            <form class="filters" method="get" action="/">
            <label>Model\(select(name: "model", options: models, selected: selectedModel))</label>
            <label>Engine\(select(name: "engine", options: engines, selected: selectedEngine))</label>
            <button type="submit">Filter</button>
            <a class="button" href="/">Clear</a>
            </form>
            <div class="summary">
            <div class="card"><b>\(total)</b><span>Runs</span></div>
            <div class="card"><b>\(passed)</b><span>Passed</span></div>
            <div class="card"><b>\(total - passed)</b><span>Failed</span></div>
            </div>

            """
        if runs.isEmpty {
            html +=
                "<div class=\"empty\">No results\(selectedModel != nil || selectedEngine != nil ? " match these filters" : " yet").</div>\n"
        } else {
            html += """
                <table>
                <thead><tr><th>Model</th><th>Engine</th><th>Suite</th><th>Result</th><th>Passed</th>\
                <th>Time</th><th>Timestamp</th></tr></thead>
                <tbody>

                """
            for run in runs {
                let badge =
                    run.passed ? "<span class=\"badge pass\">PASS</span>" : "<span class=\"badge fail\">FAIL</span>"
                html += "<tr><td class=\"model\">\(escape(run.model))</td><td>\(escape(run.engine))</td>"
                html += "<td>\(escape(run.suiteName))</td><td>\(badge)</td>"
                html += "<td class=\"num\">\(run.passedCount)/\(run.totalBenchmarks)</td>"
                html += "<td class=\"num\">\(duration(run.totalTimeSeconds))</td>"
                html += "<td>\(escape(displayTimestamp(run.timestamp)))</td></tr>\n"
            }
            html += "</tbody>\n</table>\n"
            if total > runs.count {
                html += "<p class=\"note\">Showing the newest \(runs.count) of \(total) runs.</p>\n"
            }
        }
        html += """
            <footer>JSON: <a href="/api/results">/api/results</a> &middot; <a href="/api/campaigns">/api/campaigns</a> \
            &middot; <a href="/api/health">/api/health</a></footer>
            </main>
            </body>
            </html>

            """
        return html
    }

    static func select(name: String, options: [String], selected: String?) -> String {
        var html = "<select name=\"\(name)\"><option value=\"\">All</option>"
        var values = options
        if let selected, !values.contains(selected) { values.insert(selected, at: 0) }
        for value in values {
            let mark = value == selected ? " selected" : ""
            html += "<option value=\"\(escape(value))\"\(mark)>\(escape(value))</option>"
        }
        return html + "</select>"
    }

    /// HTML-escapes text for element content and quoted attribute values.
    static func escape(_ text: String) -> String { HTMLEscaping.escape(text) }

    /// `12.3 s`, or `4m 05s` from a minute on.
    static func duration(_ seconds: Double) -> String {
        // A stored number may be anything JSON allows: beyond 100 years it is not a duration.
        guard seconds.isFinite, seconds >= 0, seconds < 3_153_600_000 else { return "–" }
        if seconds < 60 {
            let tenths = Int((seconds * 10).rounded())
            return "\(tenths / 10).\(tenths % 10) s"
        }
        let whole = Int(seconds.rounded())
        let minutes = whole / 60
        let rest = whole % 60
        if minutes < 60 { return "\(minutes)m \(rest < 10 ? "0" : "")\(rest)s" }
        return "\(minutes / 60)h \(minutes % 60 < 10 ? "0" : "")\(minutes % 60)m"
    }

    /// `2026-01-02T03:04:05.123Z` → `2026-01-02 03:04:05 UTC`; anything else as it is.
    static func displayTimestamp(_ text: String) -> String {
        let chars = Array(text)
        guard chars.count >= 19, chars[10] == "T" else { return text }
        return String(chars[0..<10]) + " " + String(chars[11..<19]) + (text.hasSuffix("Z") ? " UTC" : "")
    }
}
