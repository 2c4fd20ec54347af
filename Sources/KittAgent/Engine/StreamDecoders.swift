/// Decodes a `Transfer-Encoding: chunked` body as it arrives.
struct ChunkedDecoder {
    private enum State {
        case size
        case data(remaining: Int)
        case dataEnd
        case trailers
        case done
    }

    private var state = State.size
    private var pending: [UInt8] = []

    var isDone: Bool { if case .done = state { true } else { false } }

    /// Feeds raw body bytes; returns the decoded payload bytes they completed.
    mutating func feed(_ bytes: some Collection<UInt8>) throws(EngineError) -> [UInt8] {
        pending.append(contentsOf: bytes)
        var out: [UInt8] = []
        var index = 0
        loop: while true {
            switch state {
            case .size:
                guard let end = lineEnd(from: index) else { break loop }
                let text = String(decoding: pending[index..<end], as: UTF8.self)
                let sizeText = text.split(separator: ";", maxSplits: 1).first.map { AgentConfiguration.trim($0) } ?? ""
                guard let size = Int(sizeText, radix: 16), size >= 0 else {
                    throw EngineError("the engine sent a bad chunk size")
                }
                index = end + 2
                state = size == 0 ? .trailers : .data(remaining: size)
            case .data(let remaining):
                let available = min(remaining, pending.count - index)
                guard available > 0 else { break loop }
                out.append(contentsOf: pending[index..<(index + available)])
                index += available
                state = remaining == available ? .dataEnd : .data(remaining: remaining - available)
            case .dataEnd:
                guard pending.count - index >= 2 else { break loop }
                guard pending[index] == 13, pending[index + 1] == 10 else {
                    throw EngineError("the engine sent a chunk without its CRLF")
                }
                index += 2
                state = .size
            case .trailers:
                guard let end = lineEnd(from: index) else { break loop }
                let isEmpty = end == index
                index = end + 2
                if isEmpty { state = .done }  // an empty line ends the trailers
            case .done:
                break loop
            }
        }
        pending.removeFirst(index)
        return out
    }

    private func lineEnd(from index: Int) -> Int? {
        var i = index
        while i + 1 < pending.count {
            if pending[i] == 13 && pending[i + 1] == 10 { return i }
            i += 1
        }
        return nil
    }
}

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
