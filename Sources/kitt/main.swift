import KittApp

#if canImport(Glibc)
import Glibc
#endif

// The executable stays thin: everything lives in KittApp so tests can start the same app.
var environment: [String: String] = [:]
var index = 0
while let entry = environ[index] {
    let text = String(cString: entry)
    if let equals = text.firstIndex(of: "=") {
        environment[String(text[..<equals])] = String(text[text.index(after: equals)...])
    }
    index += 1
}
exit(KittCommand.run(Array(CommandLine.arguments.dropFirst()), environment: environment))
