import Dispatch

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
}
