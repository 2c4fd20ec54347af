import KittBase
/// Writes the Prometheus text exposition format, version 0.0.4: `# HELP` and `# TYPE` once per
/// family, then its samples, label values escaped (`\\`, `\"`, `\n`).
struct MetricsText {
    private(set) var text = ""

    static let contentType = "text/plain; version=0.0.4; charset=utf-8"

    mutating func family(_ name: String, _ type: String, _ help: String) {
        text += "# HELP \(name) \(help)\n# TYPE \(name) \(type)\n"
    }

    mutating func sample(_ name: String, _ labels: [(String, String)] = [], _ value: Double) {
        text += name
        if !labels.isEmpty {
            text += "{" + labels.map { "\($0.0)=\"\(MetricsText.escape($0.1))\"" }.joined(separator: ",") + "}"
        }
        text += " " + MetricsText.format(value) + "\n"
    }

    mutating func sample(_ name: String, _ labels: [(String, String)] = [], _ value: UInt64) {
        sample(name, labels, Double(value))
    }

    mutating func sample(_ name: String, _ labels: [(String, String)] = [], _ value: Int) {
        sample(name, labels, Double(value))
    }

    /// A histogram's `_bucket` (cumulative, then `+Inf`), `_sum` and `_count` lines.
    mutating func histogram(
        _ name: String, _ labels: [(String, String)], bounds: [Double], cumulativeCounts: [UInt64], sum: Double
    ) {
        for (index, count) in cumulativeCounts.enumerated() {
            let bound = index < bounds.count ? MetricsText.format(bounds[index]) : "+Inf"
            sample(name + "_bucket", labels + [("le", bound)], count)
        }
        sample(name + "_sum", labels, sum)
        sample(name + "_count", labels, cumulativeCounts.last ?? 0)
    }

    static func escape(_ value: String) -> String {
        var out = ""
        for character in value {
            switch character {
            case "\\": out += "\\\\"
            case "\"": out += "\\\""
            case "\n": out += "\\n"
            default: out.append(character)
            }
        }
        return out
    }

    /// Integers without a fraction (`42`, not `42.0`); others as Swift prints them (`0.0025`).
    static func format(_ value: Double) -> String {
        if value.isNaN { return "NaN" }
        if value.isInfinite { return value > 0 ? "+Inf" : "-Inf" }
        return plainNumber(value)
    }
}
