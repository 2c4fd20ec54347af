import Dispatch
import KittHTTP
import KittJSON
import Synchronization

/// A ResponseStream that records what it is sent; `refusing` models a reader whose backlog
/// overflowed (every send fails).
public final class RecordingStream: ResponseStream {
    public struct Frame: Equatable, Sendable {
        public let id: Int
        public let type: String
        public let data: JSON
    }

    private let state = Mutex<(bytes: [UInt8], closed: Bool, handlers: [@Sendable () -> Void], sends: Int)>(
        ([], false, [], 0))
    public let refusing: Bool
    /// Like a connection's bounded backlog: past this many bytes the stream closes itself
    /// (asynchronously, as a real connection does) and refuses.
    public let capacity: Int

    public init(refusing: Bool = false, capacity: Int = Int.max) {
        self.refusing = refusing
        self.capacity = capacity
    }

    public func send(_ bytes: [UInt8]) -> Bool {
        let overflowed = state.withLock { state -> Bool? in
            state.sends += 1
            guard !state.closed, !refusing else { return nil }
            if state.bytes.count + bytes.count > capacity {
                state.closed = true
                return true
            }
            state.bytes.append(contentsOf: bytes)
            return false
        }
        if overflowed == true {
            let handlers = state.withLock { state -> [@Sendable () -> Void] in
                defer { state.handlers = [] }
                return state.handlers
            }
            DispatchQueue.global().async { for handler in handlers { handler() } }
        }
        return overflowed == false
    }

    public var isClosed: Bool { state.withLock { $0.closed } }

    public func close() {
        let handlers = state.withLock { state -> [@Sendable () -> Void] in
            state.closed = true
            defer { state.handlers = [] }
            return state.handlers
        }
        for handler in handlers { handler() }
    }

    public func onClose(_ handler: @escaping @Sendable () -> Void) {
        let runNow = state.withLock { state -> Bool in
            if state.closed { return true }
            state.handlers.append(handler)
            return false
        }
        if runNow { handler() }
    }

    public var sendCount: Int { state.withLock { $0.sends } }
    public var text: String { String(decoding: state.withLock { $0.bytes }, as: UTF8.self) }

    /// The `id:/event:/data:` frames received so far (comments skipped).
    public var frames: [Frame] {
        var frames: [Frame] = []
        for block in text.split(separator: "\n\n", omittingEmptySubsequences: true) {
            var id: Int?
            var type = ""
            var data: JSON = .null
            for line in block.split(separator: "\n") {
                if line.hasPrefix("id: ") { id = Int(line.dropFirst(4)) }
                if line.hasPrefix("event: ") { type = String(line.dropFirst(7)) }
                if line.hasPrefix("data: ") { data = (try? JSON(parsing: Array(line.dropFirst(6).utf8))) ?? .null }
            }
            if let id { frames.append(Frame(id: id, type: type, data: data)) }
        }
        return frames
    }
}
