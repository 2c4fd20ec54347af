import Foundation
import KittHTTP
import KittSQLite
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
        try web.api.store.database.write { connection in
            try connection.execute("""
                WITH RECURSIVE n(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM n WHERE i < \(DashboardBenchmark.count))
                INSERT INTO runs (id, model, engine, suite_name, timestamp, passed, total_benchmarks, passed_count,
                    failed_count, total_time_seconds, kitt_version, document, created_at)
                SELECT printf('%016x', i), 'org/model-' || (i % 50), 'engine-' || (i % 5), 'quick',
                    strftime('%Y-%m-%dT%H:%M:%SZ', 1700000000 + i, 'unixepoch'), i % 2, 1, i % 2, 1 - i % 2, 3.5, '1',
                    '{"model":"org/model-' || (i % 50) || '","engine":"engine-' || (i % 5) || '","suite_name":"quick",'
                    || '"timestamp":"' || strftime('%Y-%m-%dT%H:%M:%SZ', 1700000000 + i, 'unixepoch') || '",'
                    || '"passed":true,"total_benchmarks":1,"passed_count":1,"failed_count":0,"total_time_seconds":3.5,'
                    || '"results":[{"test_name":"throughput","run_number":1,"passed":true,"metrics":{"avg_tps":'
                    || (i % 97) || '}}]}',
                    '2026-01-01T00:00:00Z'
                FROM n
                """)
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
