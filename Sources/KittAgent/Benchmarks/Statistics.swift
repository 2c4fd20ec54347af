/// Summary statistics for benchmark samples.
public enum Statistics {
    /// The `p`-th percentile (0...100) with linear interpolation between closest ranks (numpy's
    /// default, which KITT's Python benchmarks use). nil for no samples.
    public static func percentile(_ samples: [Double], _ p: Double) -> Double? {
        guard !samples.isEmpty else { return nil }
        let sorted = samples.sorted()
        let rank = min(max(p, 0), 100) / 100 * Double(sorted.count - 1)
        let lower = Int(rank.rounded(.down))
        let upper = min(lower + 1, sorted.count - 1)
        let fraction = rank - Double(lower)
        return sorted[lower] + (sorted[upper] - sorted[lower]) * fraction
    }

    public static func mean(_ samples: [Double]) -> Double? {
        samples.isEmpty ? nil : samples.reduce(0, +) / Double(samples.count)
    }

    /// Rounds to `places` decimals (metrics are reported in ms / per second; sub-µs noise is useless).
    public static func rounded(_ value: Double, places: Int = 3) -> Double {
        var scale = 1.0
        for _ in 0..<places { scale *= 10 }
        return (value * scale).rounded() / scale
    }
}
