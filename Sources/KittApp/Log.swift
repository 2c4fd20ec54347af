#if canImport(Glibc)
import Glibc
#endif
import Dispatch
import Synchronization

/// Line-oriented log to stdout. Lines are buffered and written in batches (every 100 ms or
/// 32 KiB), so the access log costs no syscall per request.
public final class Log: Sendable {
    private let buffer = Mutex<[UInt8]>([])
    // DispatchSource is thread-safe; the Dispatch overlay does not declare it Sendable.
    nonisolated(unsafe) private let timer: any DispatchSourceTimer
    private let enabled: Bool

    public init(enabled: Bool = true) {
        self.enabled = enabled
        timer = DispatchSource.makeTimerSource(queue: DispatchQueue(label: "kitt.log"))
        timer.schedule(deadline: .now() + .milliseconds(100), repeating: .milliseconds(100))
        timer.setEventHandler { [weak self] in self?.flush() }
        timer.resume()
    }

    deinit { timer.cancel() }

    public func line(_ text: String) {
        guard enabled else { return }
        let full = buffer.withLock { buffer -> Bool in
            buffer.append(contentsOf: text.utf8)
            buffer.append(0x0A)
            return buffer.count > 32 * 1024
        }
        if full { flush() }
    }

    public func flush() {
        let pending = buffer.withLock { buffer -> [UInt8] in
            defer { buffer.removeAll(keepingCapacity: true) }
            return buffer
        }
        var offset = 0
        while offset < pending.count {
            let written = pending[offset...].withUnsafeBytes { write(1, $0.baseAddress, $0.count) }
            if written <= 0 { break }
            offset += written
        }
    }
}

/// Warnings and errors go to stderr immediately.
public func printError(_ text: String) {
    var line = Array(text.utf8)
    line.append(0x0A)
    _ = line.withUnsafeBytes { write(2, $0.baseAddress, $0.count) }
}
