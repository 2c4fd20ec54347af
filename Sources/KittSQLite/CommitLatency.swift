import Dispatch
import Synchronization

/// How long group-commit COMMITs take (the fsync under `.full`), as a histogram for metrics.
/// Written only by the writer queue; the lock is taken once per batch and by scrapes, never by
/// a request.
public final class CommitLatency: Sendable {
    /// Upper bounds in seconds; `+Inf` follows.
    public static let buckets: [Double] = [0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5]

    public struct Snapshot: Sendable {
        /// One per bound, then `+Inf` (the total count).
        public var cumulativeCounts: [UInt64]
        public var sumSeconds: Double
    }

    private let state = Mutex<(counts: [UInt64], sum: Double)>(
        ([UInt64](repeating: 0, count: CommitLatency.buckets.count + 1), 0))

    init() {}

    func record(seconds: Double) {
        let bucket = CommitLatency.buckets.firstIndex { seconds <= $0 } ?? CommitLatency.buckets.count
        state.withLock {
            $0.counts[bucket] &+= 1
            $0.sum += seconds
        }
    }

    /// Times `body` and records it.
    @discardableResult
    func measure<T>(_ body: () throws -> T) rethrows -> T {
        let start = DispatchTime.now().uptimeNanoseconds
        defer { record(seconds: Double(DispatchTime.now().uptimeNanoseconds &- start) / 1e9) }
        return try body()
    }

    public func snapshot() -> Snapshot {
        state.withLock { state in
            var running: UInt64 = 0
            let cumulative = state.counts.map { count -> UInt64 in
                running &+= count
                return running
            }
            return Snapshot(cumulativeCounts: cumulative, sumSeconds: state.sum)
        }
    }
}
