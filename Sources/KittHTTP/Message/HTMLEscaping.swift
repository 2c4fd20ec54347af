/// Escaping for HTML text and quoted attribute values, shared by the web UI and the legacy
/// dashboard so both pages escape the same way.
public enum HTMLEscaping {
    /// Escapes the five characters that can end text or a quoted attribute value, and replaces
    /// NUL (which browsers turn into U+FFFD anyway) so no raw NUL reaches a page.
    public static func escape(_ text: String) -> String {
        guard text.utf8.contains(where: { $0 == 0x26 || $0 == 0x3C || $0 == 0x3E || $0 == 0x22 || $0 == 0x27 || $0 == 0 })
        else {
            return text
        }
        var out = ""
        out.reserveCapacity(text.utf8.count + 16)
        for scalar in text.unicodeScalars {
            switch scalar {
            case "&": out += "&amp;"
            case "<": out += "&lt;"
            case ">": out += "&gt;"
            case "\"": out += "&quot;"
            case "'": out += "&#39;"
            case "\u{0}": out += "\u{FFFD}"
            default: out.unicodeScalars.append(scalar)
            }
        }
        return out
    }
}
