import Dispatch
import Foundation
import KittStore
import KittTestSupport
import KittStorePostgres
import Testing

/// Repository-level figures for both backends, side by side (not a test of correctness: run
/// on demand with `KITT_PG_BENCH=1 swift test --filter RepositoryBenchmarks`). The test
/// server runs with fsync off, so PostgreSQL's write figures here are round trips and
/// server work, not disk flushes; SQLite's store syncs as in production.
@Suite(.enabled(if: ProcessInfo.processInfo.environment["KITT_PG_BENCH"] == "1", "set KITT_PG_BENCH=1 to run"))
struct RepositoryBenchmarks {
    static func measure(_ label: String, _ backend: Backend, count: Int, _ body: () throws -> Void) rethrows {
        let start = DispatchTime.now().uptimeNanoseconds
        try body()
        let micros = Double(DispatchTime.now().uptimeNanoseconds - start) / 1000 / Double(count)
        print("bench \(backend.rawValue) \(label): \(String(format: "%.0f", micros)) µs/op over \(count)")
    }

    @Test(arguments: Backend.available)
    func figures(backend: Backend) throws {
        let b = try backend.open()
        let inserts = 300
        try Self.measure("insert one result", backend, count: inserts) {
            for i in 0..<inserts {
                _ = try b.results.insert(try resultDocument(model: "m\(i % 10)", timestamp: "2026-01-01T00:00:\(i % 60)Z"))
            }
        }
        try Self.measure("insertAll 100 × 10", backend, count: 1000) {
            for batch in 0..<10 {
                _ = try b.results.insertAll((0..<100).map { _ in try resultDocument(model: "b\(batch)") })
            }
        }
        try Self.measure("list first page of 50", backend, count: 100) {
            for _ in 0..<100 { _ = try b.results.list(ResultFilter(), limit: 50, offset: 0) }
        }
        try Self.measure("list page at offset 1000", backend, count: 100) {
            for _ in 0..<100 { _ = try b.results.list(ResultFilter(), limit: 50, offset: 1000) }
        }
        try Self.measure("aggregate by model, 2 metrics", backend, count: 100) {
            for _ in 0..<100 { _ = try b.results.aggregate(groupBy: .model, metrics: ["avg_tps", "p50_latency_ms"]) }
        }
        let agent = try waitFor {
            b.agents.register(AgentRegistration(name: "bench", hostname: "h"), tokenAgentID: nil, installTokenHash: nil, installTokenCutoff: "", completion: $0)
        }.agentID
        for _ in 0..<100 { _ = try b.agents.queueCommand(agentID: agent, type: "cleanup_storage", testID: nil, payload: .null) }
        try Self.measure("heartbeat (100 handing out a command)", backend, count: 300) {
            for _ in 0..<300 {
                _ = try waitFor { b.agents.heartbeat(idOrName: agent, AgentHeartbeat(), offlineCutoff: "", completion: $0) }
            }
        }
    }
}
