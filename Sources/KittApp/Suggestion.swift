/// "did you mean ...?" for a mistyped subcommand or flag: the closest known word by edit
/// distance, when it is close enough to be a typo.
enum Suggestion {
    /// The closest of `candidates` to `word`, or nil when none is within a typo's distance.
    static func closest(to word: String, in candidates: [String]) -> String? {
        let limit = max(1, min(3, word.count / 3))
        var best: (word: String, distance: Int)?
        for candidate in candidates {
            let distance = editDistance(word, candidate)
            if distance <= limit, distance < (best?.distance ?? Int.max) { best = (candidate, distance) }
        }
        return best?.word
    }

    /// `; did you mean '--port'?` or "".
    static func hint(for word: String, in candidates: [String]) -> String {
        closest(to: word, in: candidates).map { "; did you mean '\($0)'?" } ?? ""
    }

    /// Every `--flag` mentioned in a help text (so new flags are suggested without a list to keep).
    static func flags(in help: String) -> [String] {
        var flags: [String] = []
        for word in help.split(whereSeparator: { $0 == " " || $0 == "\n" || $0 == "," || $0 == "|" }) {
            guard word.hasPrefix("--"), word.count > 2 else { continue }
            let flag = String(word.prefix { $0 == "-" || $0.isLetter || $0.isNumber })
            if flag.count > 2, !flags.contains(flag) { flags.append(flag) }
        }
        return flags
    }

    /// Levenshtein distance, with a transposition counted as one edit (`--prot` → `--port`).
    static func editDistance(_ a: String, _ b: String) -> Int {
        let x = Array(a.utf8)
        let y = Array(b.utf8)
        if x.isEmpty || y.isEmpty { return max(x.count, y.count) }
        var previous2 = [Int](repeating: 0, count: y.count + 1)
        var previous = Array(0...y.count)
        var current = [Int](repeating: 0, count: y.count + 1)
        for i in 1...x.count {
            current[0] = i
            for j in 1...y.count {
                let cost = x[i - 1] == y[j - 1] ? 0 : 1
                current[j] = min(previous[j] + 1, current[j - 1] + 1, previous[j - 1] + cost)
                if i > 1, j > 1, x[i - 1] == y[j - 2], x[i - 2] == y[j - 1] {
                    current[j] = min(current[j], previous2[j - 2] + 1)
                }
            }
            (previous2, previous, current) = (previous, current, previous2)
        }
        return previous[y.count]
    }
}
