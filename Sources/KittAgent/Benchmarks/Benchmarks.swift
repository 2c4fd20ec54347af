import Dispatch
import Synchronization

/// What one benchmark run produced: ordered metrics, errors, and whether it passed.
public struct BenchmarkOutcome: Sendable {
    public var name: String
    public var metrics: [(String, Double)]
    public var errors: [String]
    /// Every request failed, or the run was stopped: the quick test fails.
    public var failed: Bool
    public var interrupted: Bool
    public var passed: Bool { !failed && !interrupted && errors.isEmpty }

    public func metric(_ name: String) -> Double? { metrics.first { $0.0 == name }?.1 }
}

/// Benchmark parameters (from the agent's configuration).
public struct BenchmarkPlan: Sendable {
    public var model: String
    public var prompts: Int
    public var concurrency: Int
    public var latencyRequests: Int
    public var maxTokens: Int

    public init(model: String, prompts: Int, concurrency: Int, latencyRequests: Int, maxTokens: Int) {
        self.model = model
        self.prompts = prompts
        self.concurrency = concurrency
        self.latencyRequests = latencyRequests
        self.maxTokens = maxTokens
    }
}

/// The benchmarks kitt's agent runs against an OpenAI-compatible engine.
public enum Benchmarks {
    public static let prompts = [
        "Explain in two sentences why the sky is blue.",
        "Write a haiku about a GPU running hot.",
        "List three uses of a hash table.",
        "Summarize the plot of Hamlet in one paragraph.",
        "What is the capital of Australia, and why is it not Sydney?",
        "Translate 'good morning, how are you?' into French and Spanish.",
        "Give a short definition of entropy in information theory.",
        "Describe how a transformer model attends to earlier tokens.",
    ]

    /// Throughput: `prompts` non-streaming completions, `concurrency` in flight at once, each on
    /// its own private queue. requests/s and output tokens/s are over the wall time of the whole run.
    public static func throughput(
        engine: any InferenceEngine, plan: BenchmarkPlan, shouldStop: @escaping @Sendable () -> Bool,
        log: @escaping @Sendable (String) -> Void
    ) -> BenchmarkOutcome {
        struct Tally {
            var next = 0
            var samples: [CompletionSample] = []
            var errors: [String] = []
        }
        let tally = Mutex(Tally())
        let group = DispatchGroup()
        let total = plan.prompts
        let start = Clock.now()
        for worker in 0..<min(plan.concurrency, total) {
            DispatchQueue(label: "kitt.agent.throughput.\(worker)").async(group: group) {
                while !shouldStop() {
                    let index = tally.withLock { t -> Int? in
                        guard t.next < total else { return nil }
                        defer { t.next += 1 }
                        return t.next
                    }
                    guard let index else { return }
                    let prompt = prompts[index % prompts.count]
                    do {
                        let sample = try engine.complete(model: plan.model, prompt: prompt, maxTokens: plan.maxTokens)
                        tally.withLock { $0.samples.append(sample) }
                    } catch {
                        log("throughput: request \(index + 1)/\(total) failed: \(error)")
                        tally.withLock { $0.errors.append("request \(index + 1): \(error)") }
                    }
                }
            }
        }
        group.wait()
        let elapsed = Clock.now() - start
        let (samples, errors) = tally.withLock { ($0.samples, $0.errors) }
        return throughputOutcome(
            samples: samples, errors: errors, elapsed: elapsed, concurrency: plan.concurrency,
            interrupted: shouldStop() && samples.count + errors.count < total)
    }

    /// The throughput metrics for given samples (separate so the math is testable).
    public static func throughputOutcome(
        samples: [CompletionSample], errors: [String], elapsed: Double, concurrency: Int, interrupted: Bool = false
    ) -> BenchmarkOutcome {
        let tokens = samples.reduce(0) { $0 + $1.outputTokens }
        let latencies = samples.map { $0.latency * 1000 }
        let seconds = max(elapsed, 1e-9)
        var metrics: [(String, Double)] = [
            ("requests_per_second", Statistics.rounded(Double(samples.count) / seconds)),
            ("output_tokens_per_second", Statistics.rounded(Double(tokens) / seconds)),
            ("total_requests", Double(samples.count + errors.count)),
            ("successful_requests", Double(samples.count)),
            ("failed_requests", Double(errors.count)),
            ("total_output_tokens", Double(tokens)),
            ("concurrency", Double(concurrency)),
            ("elapsed_seconds", Statistics.rounded(elapsed)),
        ]
        if let avg = Statistics.mean(latencies) { metrics.append(("avg_latency_ms", Statistics.rounded(avg))) }
        for p in [50.0, 95.0, 99.0] {
            if let value = Statistics.percentile(latencies, p) {
                metrics.append(("latency_ms_p\(Int(p))", Statistics.rounded(value)))
            }
        }
        return BenchmarkOutcome(
            name: "throughput", metrics: metrics, errors: Array(errors.prefix(20)), failed: samples.isEmpty,
            interrupted: interrupted)
    }

    /// Latency: `latencyRequests` streaming completions one after the other; time to first
    /// token and total latency, p50/p95/p99.
    public static func latency(
        engine: any InferenceEngine, plan: BenchmarkPlan, shouldStop: @escaping @Sendable () -> Bool,
        log: @escaping @Sendable (String) -> Void
    ) -> BenchmarkOutcome {
        var samples: [StreamSample] = []
        var errors: [String] = []
        for index in 0..<plan.latencyRequests {
            if shouldStop() { break }
            do {
                let sample = try engine.stream(
                    model: plan.model, prompt: prompts[index % prompts.count], maxTokens: plan.maxTokens)
                samples.append(sample)
            } catch {
                log("latency: request \(index + 1)/\(plan.latencyRequests) failed: \(error)")
                errors.append("request \(index + 1): \(error)")
            }
        }
        return latencyOutcome(
            samples: samples, errors: errors, interrupted: samples.count + errors.count < plan.latencyRequests)
    }

    public static func latencyOutcome(samples: [StreamSample], errors: [String], interrupted: Bool = false)
        -> BenchmarkOutcome
    {
        let ttft = samples.map { $0.timeToFirstToken * 1000 }
        let total = samples.map { $0.latency * 1000 }
        var metrics: [(String, Double)] = [
            ("requests", Double(samples.count + errors.count)),
            ("failed_requests", Double(errors.count)),
        ]
        for (name, values) in [("ttft_ms", ttft), ("latency_ms", total)] {
            if let avg = Statistics.mean(values) { metrics.append(("\(name)_avg", Statistics.rounded(avg))) }
            for p in [50.0, 95.0, 99.0] {
                if let value = Statistics.percentile(values, p) {
                    metrics.append(("\(name)_p\(Int(p))", Statistics.rounded(value)))
                }
            }
        }
        // Decode speed after the first token, per request, averaged.
        let rates = samples.compactMap { s -> Double? in
            let decode = s.latency - s.timeToFirstToken
            return s.outputTokens > 1 && decode > 0 ? Double(s.outputTokens - 1) / decode : nil
        }
        if let rate = Statistics.mean(rates) { metrics.append(("output_tokens_per_second", Statistics.rounded(rate))) }
        return BenchmarkOutcome(
            name: "latency", metrics: metrics, errors: Array(errors.prefix(20)), failed: samples.isEmpty,
            interrupted: interrupted)
    }
}
