import Dispatch
import Synchronization

/// A serial queue that runs the work of many connections, plus the scratch buffer they read
/// into. There are only a few (one per core), so no thread exists per connection: the
/// kernel's readiness events (epoll, through DispatchSources) decide who runs.
final class EventLoop: @unchecked Sendable {
    // `scratch` is only touched from `queue`, which is serial: one reader at a time.
    let queue: DispatchQueue
    let scratch: UnsafeMutableRawBufferPointer

    init(index: Int) {
        queue = DispatchQueue(label: "kitt.loop.\(index)")
        scratch = UnsafeMutableRawBufferPointer.allocate(byteCount: 64 * 1024, alignment: 16)
    }

    deinit { scratch.deallocate() }

    /// Bytes published to streams (SSE) wait here until the loop's next drain: one queue hop
    /// per burst for all of this loop's subscribers instead of one per subscriber and event.
    private struct PendingStreams {
        var items: [(Connection, [UInt8])] = []
        var scheduled = false
    }
    private let pendingStreams = Mutex(PendingStreams())

    func enqueueStreamBytes(_ bytes: [UInt8], for connection: Connection) {
        let schedule = pendingStreams.withLock { pending -> Bool in
            pending.items.append((connection, bytes))
            defer { pending.scheduled = true }
            return !pending.scheduled
        }
        if schedule {
            queue.async { [self] in drainStreams() }
        }
    }

    private func drainStreams() {
        let items = pendingStreams.withLock { pending -> [(Connection, [UInt8])] in
            defer {
                pending.items = []
                pending.scheduled = false
            }
            return pending.items
        }
        var touched: [ObjectIdentifier: Connection] = [:]
        for (connection, bytes) in items where connection.appendStreamBytes(bytes) {
            touched[ObjectIdentifier(connection)] = connection
        }
        for connection in touched.values { connection.flushStream() }
    }
}
