#if canImport(Glibc)
import Glibc
#endif
import CKittSystem
import Dispatch
import KittThreads
import Synchronization

/// An epoll instance run by its own Dispatch queue: the thread that waits for readiness is
/// the one that does the I/O and runs the handlers, so a request costs no thread hand-off
/// (DispatchSources wake a manager thread, then a worker, for every event — measured as a
/// third of the server's CPU). There are only a few loops (one per core) and no thread per
/// connection; every connection, and every SSE stream, lives on one loop.
///
/// `@unchecked Sendable`: `connections` and `scratch` are only touched on the loop's thread
/// (inside `run`); other threads talk to the loop only through `execute`, whose task list is
/// behind a mutex, and the eventfd that wakes it.
final class EventLoop: @unchecked Sendable {
    /// Which loop this is: its metrics slot and its request-id sequence.
    let index: Int
    /// Request ids issued on this loop (loop thread only).
    var nextRequestNumber: UInt64 = 0
    let scratch: UnsafeMutableRawBufferPointer
    private let epoll: Int32
    private let wakeup: Int32
    private let queue: DispatchQueue
    private var connections: [Int32: Connection] = [:]
    private let tasks = Mutex<[@Sendable () -> Void]>([])
    private let sleeping = Atomic<Bool>(false)
    private let stopping = Atomic<Bool>(false)
    private let finished = DispatchSemaphore(value: 0)
    private let started = Atomic<Bool>(false)

    init(index: Int) {
        self.index = index
        scratch = UnsafeMutableRawBufferPointer.allocate(byteCount: 64 * 1024, alignment: 16)
        epoll = kitt_epoll_create()
        wakeup = kitt_eventfd()
        queue = DispatchQueue(label: "kitt.loop.\(index)")
        _ = kitt_epoll_ctl(epoll, EPOLL_CTL_ADD, wakeup, kitt_EPOLLIN)
    }

    deinit {
        scratch.deallocate()
        Glibc.close(epoll)
        Glibc.close(wakeup)
    }

    /// Starts the loop on its queue (once).
    func start() {
        guard !started.exchange(true, ordering: .acquiringAndReleasing) else { return }
        queue.async { [self] in run() }
    }

    /// Stops the loop after the tasks already queued, and waits for it.
    func stop() {
        guard started.load(ordering: .acquiring) else { return }
        guard !stopping.exchange(true, ordering: .acquiringAndReleasing) else { return }
        kitt_eventfd_signal(wakeup)
        finished.wait()
    }

    /// Debug builds trap when called off this loop's thread (NIO's `assertInEventLoop`): a
    /// connection's state is unsynchronized and belongs to its loop. Free in release builds.
    @inline(__always)
    func assertInLoop(file: StaticString = #fileID, line: UInt = #line) {
        assert({ dispatchPrecondition(condition: .onQueue(queue)); return true }(), file: file, line: line)
    }

    /// Runs `task` on the loop's thread, after the events being handled now.
    func execute(_ task: @escaping @Sendable () -> Void) {
        tasks.withLock { $0.append(task) }
        // The loop publishes `sleeping` before its last look at the task list, so either it
        // sees this task or we see it sleeping and wake it.
        if sleeping.load(ordering: .sequentiallyConsistent) { kitt_eventfd_signal(wakeup) }
    }

    // MARK: Registration (loop thread only)

    func register(_ connection: Connection, events: UInt32) {
        assertInLoop()
        connections[connection.fd] = connection
        _ = kitt_epoll_ctl(epoll, EPOLL_CTL_ADD, connection.fd, events)
    }

    func update(_ connection: Connection, events: UInt32) {
        assertInLoop()
        _ = kitt_epoll_ctl(epoll, EPOLL_CTL_MOD, connection.fd, events)
    }

    func unregister(_ connection: Connection) {
        assertInLoop()
        if connections[connection.fd] === connection {
            connections[connection.fd] = nil
            _ = kitt_epoll_ctl(epoll, EPOLL_CTL_DEL, connection.fd, 0)
        }
    }

    // MARK: The loop

    private func run() {
        EventLoopThread.mark(true)
        defer { EventLoopThread.mark(false) }
        var fds = [Int32](repeating: 0, count: 256)
        var events = [UInt32](repeating: 0, count: 256)
        while !stopping.load(ordering: .acquiring) {
            runTasks()
            sleeping.store(true, ordering: .sequentiallyConsistent)
            let idle = tasks.withLock { $0.isEmpty }
            let count = kitt_epoll_wait(epoll, &fds, &events, 256, idle ? -1 : 0)
            sleeping.store(false, ordering: .sequentiallyConsistent)
            if count < 0 {
                if errno == EINTR { continue }
                break
            }
            for i in 0..<Int(count) {
                let fd = fds[i]
                if fd == wakeup {
                    kitt_eventfd_drain(wakeup)
                    continue
                }
                // A connection closed earlier in this batch is gone from the table.
                guard let connection = connections[fd] else { continue }
                connection.handle(events: events[i])
            }
        }
        runTasks()
        finished.signal()
    }

    private func runTasks() {
        while true {
            let batch = tasks.withLock { tasks -> [@Sendable () -> Void] in
                defer { tasks.removeAll(keepingCapacity: true) }
                return tasks
            }
            if batch.isEmpty { return }
            for task in batch { task() }
        }
    }

    // MARK: Stream fan-out

    /// Bytes published to streams (SSE) wait here until the loop's next drain: one wake-up per
    /// burst for all of this loop's subscribers instead of one per subscriber and event.
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
            execute { [self] in drainStreams() }
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

let EPOLL_CTL_ADD: Int32 = 1
let EPOLL_CTL_DEL: Int32 = 2
let EPOLL_CTL_MOD: Int32 = 3
