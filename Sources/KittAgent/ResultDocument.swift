import KittJSON

#if canImport(Glibc)
    import Glibc
#endif

/// Builds the KITT `metrics.json` document (SPEC Results) for one benchmark run.
public enum ResultDocument {
    public static func make(
        model: String, engine: String, suite: String, outcome: BenchmarkOutcome, totalSeconds: Double,
        version: String, facts: MachineFacts, timestamp: String = Timestamp.now()
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
}
