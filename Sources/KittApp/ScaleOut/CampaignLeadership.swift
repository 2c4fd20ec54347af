import Dispatch
import KittAPI
import KittStorePostgres
import Synchronization

/// Several instances on one PostgreSQL database: exactly one runs campaigns. Each instance
/// tries to take the `campaign-runner` lease (a session advisory lock, `PostgresLeases`)
/// every `interval` seconds; the holder runs the `CampaignRunner` and reconciles it on each
/// tick (launches and test results handled by other instances wake only their own, stopped,
/// runners). When the holder dies its session ends, the lock is free, and the next instance
/// to try takes over: the runner resumes every campaign from the store where it was.
///
/// A holder that loses its database session stops its runner at once (another instance may
/// already hold the lease).
final class CampaignLeadership: Sendable {
    static let leaseName = "campaign-runner"

    private let leases: PostgresLeases
    private let runner: CampaignRunner
    private let interval: Double
    /// Lifecycle lines for the operator (taking over, losing the lease).
    private let say: @Sendable (String) -> Void
    private let queue = DispatchQueue(label: "kitt.campaigns.leadership")
    private let state = Mutex(State())

    private struct State {
        var leading = false
        var timer: LeadershipTimer?
    }

    init(leases: PostgresLeases, runner: CampaignRunner, interval: Double = 1, say: @escaping @Sendable (String) -> Void) {
        self.leases = leases
        self.runner = runner
        self.interval = interval
        self.say = say
    }

    /// Whether this instance runs the campaigns now (tests, `/metrics`).
    var isLeading: Bool { state.withLock { $0.leading } }

    func start() {
        let timer = DispatchSource.makeTimerSource(queue: queue)
        timer.schedule(deadline: .now(), repeating: interval, leeway: .milliseconds(100))
        timer.setEventHandler { [weak self] in self?.tick() }
        timer.resume()
        state.withLock { $0.timer = LeadershipTimer(source: timer) }
    }

    /// Stops the runner (if leading) and gives the lease up, so another instance takes over now.
    func stop() {
        let timer = state.withLock { state -> LeadershipTimer? in
            defer { state.timer = nil }
            return state.timer
        }
        timer?.source.cancel()
        queue.sync {
            if state.withLock({ $0.leading }) { runner.stop() }
            state.withLock { $0.leading = false }
        }
        try? leases.release(Self.leaseName)
        leases.close()
    }

    private func tick() {
        let leading = state.withLock { $0.leading }
        if leading {
            guard leases.verifiedHeld().contains(Self.leaseName) else {
                runner.stop()
                state.withLock { $0.leading = false }
                say("Campaigns: lost the campaign lease (database session ended); another instance takes over")
                return
            }
            runner.reconcile()
        } else if (try? leases.tryAcquire(Self.leaseName)) == true {
            state.withLock { $0.leading = true }
            runner.start()
            say("Campaigns: this instance runs them now (holds the campaign lease)")
        }
    }
}

/// DispatchSource is thread-safe; Swift's Dispatch overlay just does not declare it Sendable.
private struct LeadershipTimer: @unchecked Sendable {
    let source: any DispatchSourceTimer
}
