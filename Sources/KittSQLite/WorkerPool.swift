import Dispatch
import Synchronization

/// A fixed number of serial queues taking jobs from one FIFO: blocking work (SQLite reads,
/// synchronous writes) queues here instead of on an event loop, and a burst of it neither
/// grows the thread count (as blocking on a global concurrent queue does) nor waits behind
/// one busy queue while another is idle.
public final class WorkerPool: Sendable {
    public typealias Job = @Sendable () -> Void

    private struct State {
        var jobs: [Job?] = []
        var head = 0
        var idle: [Int]
    }

    private let workers: [DispatchQueue]
    private let state: Mutex<State>

    public init(label: String, count: Int) {
        precondition(count >= 1)
        workers = (0..<count).map { DispatchQueue(label: "\(label).\($0)") }
        state = Mutex(State(idle: Array((0..<count).reversed())))
    }

    public var count: Int { workers.count }

    /// Runs `job` on one of the workers, after the jobs already queued.
    public func submit(_ job: @escaping Job) {
        let worker = state.withLock { state -> Int? in
            state.jobs.append(job)
            return state.idle.popLast()
        }
        if let worker { workers[worker].async { self.drain(worker) } }
    }

    /// Runs queued jobs until there are none, then marks the worker idle.
    private func drain(_ worker: Int) {
        while let job = state.withLock({ state -> Job? in
            guard state.head < state.jobs.count else {
                state.jobs.removeAll(keepingCapacity: state.jobs.count <= 1024)
                state.head = 0
                state.idle.append(worker)
                return nil
            }
            defer {
                state.jobs[state.head] = nil  // release what the job captured
                state.head += 1
            }
            return state.jobs[state.head]
        }) {
            job()
        }
    }
}
