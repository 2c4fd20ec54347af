import KittJSON

#if canImport(Glibc)
    import Glibc
#endif

/// Builds the KITT `metrics.json` document (SPEC Results) for one benchmark run.
public enum ResultDocument {
    public static func make(
        model: String, engine: String, suite: String, outcome: BenchmarkOutcome, totalSeconds: Double,
        version: String, facts: MachineFacts, timestamp: String = isoNow()
    ) -> JSON {
        var metrics = JSONObject()
        for (name, value) in outcome.metrics { metrics[name] = .double(value) }
        let run = JSON.object(
            JSONObject([
                ("test_name", .string(outcome.name)), ("test_version", "1.0"), ("run_number", 1),
                ("passed", .bool(outcome.passed)), ("metrics", .object(metrics)),
                ("errors", .array(outcome.errors.map { .string($0) })),
            ]))
        return .object(
            JSONObject([
                ("model", .string(model)), ("engine", .string(engine)), ("suite_name", .string(suite)),
                ("timestamp", .string(timestamp)), ("passed", .bool(outcome.passed)), ("total_benchmarks", 1),
                ("passed_count", .int(outcome.passed ? 1 : 0)), ("failed_count", .int(outcome.passed ? 0 : 1)),
                ("total_time_seconds", .double(Statistics.rounded(totalSeconds))), ("kitt_version", .string(version)),
                ("results", [run]), ("system_info", facts.systemInfo),
            ]))
    }

    /// Now as ISO 8601 UTC with microseconds (`2025-01-31T12:00:00.123456Z`).
    public static func isoNow() -> String {
        var spec = timespec()
        clock_gettime(CLOCK_REALTIME, &spec)
        var seconds = spec.tv_sec
        var parts = tm()
        gmtime_r(&seconds, &parts)
        func pad(_ value: Int32, _ width: Int) -> String {
            let text = String(value)
            return String(repeating: "0", count: max(0, width - text.count)) + text
        }
        return "\(pad(parts.tm_year + 1900, 4))-\(pad(parts.tm_mon + 1, 2))-\(pad(parts.tm_mday, 2))T"
            + "\(pad(parts.tm_hour, 2)):\(pad(parts.tm_min, 2)):\(pad(parts.tm_sec, 2))."
            + "\(pad(Int32(spec.tv_nsec / 1000), 6))Z"
    }
}
