import KittApp

#if canImport(Glibc)
import Glibc
#endif

// The executable stays thin: everything lives in KittApp so tests can start the same app.
let environment = Dictionary(
    uniqueKeysWithValues: (0..<Int.max).lazy.prefix { environ[$0] != nil }.compactMap { index -> (String, String)? in
        let entry = String(cString: environ[index]!)
        guard let equals = entry.firstIndex(of: "=") else { return nil }
        return (String(entry[..<equals]), String(entry[entry.index(after: equals)...]))
    }.reduce(into: [String: String]()) { $0[$1.0] = $1.1 }.map { ($0.key, $0.value) })
exit(KittCommand.run(Array(CommandLine.arguments.dropFirst()), environment: environment))
