import Foundation
import KittHTTP
import KittSQLite
import KittStore
import KittTestSupport
import Testing

@testable import KittWeb

/// Not a test of correctness: how long pages take to render on the server with a large store.
/// Runs only with KITT_WEBUI_BENCH_RESULTS=<count> (e.g. 1000000); prints timings.
@Suite struct DashboardBenchmark {
    static let count = Int(ProcessInfo.processInfo.environment["KITT_WEBUI_BENCH_RESULTS"] ?? "") ?? 0

    @Test(.enabled(if: count > 0, "set KITT_WEBUI_BENCH_RESULTS=<results> to run the render benchmark"))
    func renderTimesAtALargeStore() throws {
        let web = try WebHarness()
        let fill = ContinuousClock.now
        // Through the repository (in batches), so the result summaries are kept as in production.
        var batch: [ResultDocument] = []
        for i in 1...DashboardBenchmark.count {
            let document = """
                {"model":"org/model-\(i % 50)","engine":"engine-\(i % 5)","suite_name":"quick",\
                "timestamp":"2026-01-01T00:00:00Z","passed":true,"total_benchmarks":1,"passed_count":1,\
                "failed_count":0,"total_time_seconds":3.5,"results":[{"test_name":"throughput","run_number":1,\
                "passed":true,"metrics":{"avg_tps":\(i % 97)}}]}
                """
            batch.append(try ResultDocument(bytes: Array(document.utf8)))
            if batch.count == 10_000 || i == DashboardBenchmark.count {
                _ = try web.api.store.results.insertAll(batch)
                batch.removeAll(keepingCapacity: true)
            }
        }
        print("filled \(DashboardBenchmark.count) results in \(ContinuousClock.now - fill)")
        for path in ["/", "/results", "/results?page=1000", "/results?model=org%2Fmodel-7", "/agents", "/campaigns"] {
            var times: [Double] = []
            for _ in 0..<31 {
                let start = ContinuousClock.now
                let response = web.call(.get, path)
                let elapsed = ContinuousClock.now - start
                #expect(response.status == 200)
                times.append(Double(elapsed.components.attoseconds) / 1e15 + Double(elapsed.components.seconds) * 1000)
            }
            let first = times[0]
            let warm = times.dropFirst().sorted()
            print(
                "render \(path): first \(String(format: "%.1f", first)) ms, median \(String(format: "%.2f", warm[warm.count / 2])) ms, "
                    + "p95 \(String(format: "%.2f", warm[Int(Double(warm.count) * 0.95)])) ms")
        }
    }
}
