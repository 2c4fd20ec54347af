import KittJSON
import KittAgent
import Testing

@Suite struct StatisticsTests {
    @Test func percentilesInterpolateLikeNumpy() {
        let samples: [Double] = [4, 1, 3, 2]
        #expect(Statistics.percentile(samples, 50) == 2.5)
        #expect(abs((Statistics.percentile(samples, 95) ?? 0) - 3.85) < 1e-9)
        #expect(abs((Statistics.percentile(samples, 99) ?? 0) - 3.97) < 1e-9)
        #expect(Statistics.percentile(samples, 0) == 1)
        #expect(Statistics.percentile(samples, 100) == 4)
        #expect(Statistics.percentile([7], 99) == 7)
        #expect(Statistics.percentile([], 50) == nil)
        #expect(Statistics.mean([1, 2, 6]) == 3)
    }

    @Test func throughputMath() {
        let samples = (0..<8).map { _ in CompletionSample(latency: 0.25, outputTokens: 16) }
        let outcome = Benchmarks.throughputOutcome(samples: samples, errors: ["x"], elapsed: 2, concurrency: 4)
        #expect(outcome.metric("requests_per_second") == 4)
        #expect(outcome.metric("output_tokens_per_second") == 64)
        #expect(outcome.metric("total_requests") == 9)
        #expect(outcome.metric("failed_requests") == 1)
        #expect(outcome.metric("latency_ms_p50") == 250)
        #expect(!outcome.passed)  // one request failed
        #expect(!outcome.failed)  // but not all
        let none = Benchmarks.throughputOutcome(samples: [], errors: ["boom"], elapsed: 1, concurrency: 1)
        #expect(none.failed)
        #expect(none.metric("latency_ms_p50") == nil)
    }

    @Test func latencyMath() {
        let samples = [0.1, 0.2, 0.3, 0.4, 0.5].map {
            StreamSample(timeToFirstToken: $0, latency: $0 + 1, outputTokens: 11)
        }
        let outcome = Benchmarks.latencyOutcome(samples: samples, errors: [])
        #expect(outcome.passed)
        #expect(outcome.metric("ttft_ms_p50") == 300)
        #expect(outcome.metric("ttft_ms_p95") == 480)
        #expect(outcome.metric("ttft_ms_p99") == 496)
        #expect(outcome.metric("latency_ms_p50") == 1300)
        #expect(outcome.metric("output_tokens_per_second") == 10)  // 10 tokens after the first in 1 s
    }

    @Test func resultDocumentHasTheMetricsShape() {
        let outcome = Benchmarks.latencyOutcome(
            samples: [StreamSample(timeToFirstToken: 0.1, latency: 0.5, outputTokens: 5)], errors: [])
        let facts = MachineFacts(
            hostname: "h", cpuModel: "c", cpuArch: "x86_64", cores: 2, ramGB: 8, gpus: [],
            environmentType: "native_linux")
        let doc = ResultDocument.make(
            model: "org/m", engine: "vllm", suite: "quick", outcome: outcome, totalSeconds: 0.5, version: "0.9.0",
            facts: facts, timestamp: "2025-01-01T00:00:00Z")
        #expect(doc["model"]?.stringValue == "org/m")
        #expect(doc["passed"]?.boolValue == true)
        #expect(doc["total_benchmarks"]?.intValue == 1)
        #expect(doc["passed_count"]?.intValue == 1)
        let run = doc["results"]?.arrayValue?.first
        #expect(run?["test_name"]?.stringValue == "latency")
        #expect(run?["metrics"]?["ttft_ms_p50"]?.doubleValue == 100)
        #expect(doc["system_info"]?["cpu"]?["cores"]?.intValue == 2)
        #expect(Timestamp.now().hasSuffix("Z"))
        #expect(Timestamp.now().count == 27)
    }
}
