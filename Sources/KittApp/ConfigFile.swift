/// `kitt web --config FILE`: the same options as the flags, one `key = value` per line (`key`
/// is the flag without `--`; `#` starts a comment; a switch takes `true` or `false`). The file
/// becomes arguments placed before the command line's, so flags on the command line win.
enum ConfigFile {
    /// Flags of `help` and whether each takes a value (`--port PORT`) or is a switch (`--quiet`).
    static func flags(in help: String) -> [String: Bool] {
        var flags: [String: Bool] = [:]
        for line in help.split(separator: "\n") {
            let words = line.split(separator: " ", omittingEmptySubsequences: true)
            for (index, word) in words.enumerated() where word.hasPrefix("--") {
                let next = index + 1 < words.count ? words[index + 1] : ""
                let takesValue = next.first.map { $0.isUppercase } == true || next.contains("|")
                flags[String(word), default: false] = flags[String(word), default: false] || takesValue
            }
        }
        return flags
    }

    /// Flags whose help line says "repeatable": the file may set them on several lines.
    static func repeatable(in help: String) -> Set<String> {
        var flags: Set<String> = []
        var previous: String?
        for line in help.split(separator: "\n") {
            let flag = line.split(separator: " ").first { $0.hasPrefix("--") }.map(String.init)
            if line.contains("repeatable"), let owner = flag ?? previous { flags.insert(owner) }
            if let flag { previous = flag }
        }
        return flags
    }

    /// The arguments `text` (the file at `path`) stands for; errors name the file and line.
    static func arguments(_ text: String, path: String, help: String) throws -> [String] {
        let known = flags(in: help)
        let repeatable = repeatable(in: help)
        var arguments: [String] = []
        var seen: [String: Int] = [:]
        for (index, raw) in text.split(separator: "\n", omittingEmptySubsequences: false).enumerated() {
            let number = index + 1
            var line = Substring(raw)
            line = ConfigFile.strippingComment(line)
            line = line.trimmingSpaces()
            guard !line.isEmpty else { continue }
            guard let equals = line.firstIndex(of: "=") else {
                throw UsageError("\(path):\(number): expected 'key = value', got '\(line)'")
            }
            let key = String(line[..<equals].trimmingSpaces())
            var value = String(line[line.index(after: equals)...].trimmingSpaces())
            if value.count >= 2, let first = value.first, first == "\"" || first == "'", value.last == first {
                value = String(value.dropFirst().dropLast())
            }
            let flag = "--" + key
            guard let takesValue = known[flag], !["--config", "--help"].contains(flag) else {
                let keys = known.keys.map { String($0.dropFirst(2)) }
                throw UsageError("\(path):\(number): unknown key '\(key)'\(Suggestion.hint(for: key, in: keys))")
            }
            if let earlier = seen[key], !repeatable.contains(flag) {
                throw UsageError("\(path):\(number): '\(key)' is already set on line \(earlier)")
            }
            seen[key] = number
            if takesValue {
                arguments += [flag, value]
            } else {
                switch value {
                case "true", "yes", "on": arguments.append(flag)
                case "false", "no", "off": break
                default: throw UsageError("\(path):\(number): '\(key)' is true or false, got '\(value)'")
                }
            }
        }
        return arguments
    }
}

extension ConfigFile {
    /// `#` starts a comment at the start of a line or after a space, so a value may contain one
    /// (`auth-token = a#b`).
    static func strippingComment(_ line: Substring) -> Substring {
        var previous: Character = " "
        for index in line.indices {
            if line[index] == "#", previous == " " || previous == "\t" { return line[..<index] }
            previous = line[index]
        }
        return line
    }
}

extension Substring {
    func trimmingSpaces() -> Substring {
        var text = self
        while let first = text.first, first == " " || first == "\t" || first == "\r" { text.removeFirst() }
        while let last = text.last, last == " " || last == "\t" || last == "\r" { text.removeLast() }
        return text
    }
}
