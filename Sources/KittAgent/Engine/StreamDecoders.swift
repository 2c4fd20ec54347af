/// Splits a `text/event-stream` body into the payloads of its `data:` lines.
struct SSEDataLines {
    private var pending: [UInt8] = []

    mutating func feed(_ bytes: some Collection<UInt8>) -> [String] {
        pending.append(contentsOf: bytes)
        var lines: [String] = []
        var start = 0
        while let newline = pending[start...].firstIndex(of: 10) {
            var line = pending[start..<newline]
            if line.last == 13 { line = line.dropLast() }
            start = newline + 1
            if line.starts(with: Array("data:".utf8)) {
                lines.append(AgentConfiguration.trim(Substring(String(decoding: line.dropFirst(5), as: UTF8.self))))
            }
        }
        pending.removeFirst(start)
        return lines
    }
}
