import Foundation
import Synchronization
import KittTestSupport
import Testing
import KittPostgres
import KittStore
import KittStorePostgres

/// The repository tests run against both stores: SQLite in a temp dir and PostgreSQL in a
/// fresh database of the test server (left out, with the reason printed by the PostgreSQL
/// suites, when the server binaries are missing).
enum Backend: String, CaseIterable, CustomTestStringConvertible, Sendable {
    case sqlite
    case postgres

    static var available: [Backend] { PostgresServer.isAvailable ? allCases : [.sqlite] }

    var testDescription: String { rawValue }

    func open() throws -> OpenBackend {
        switch self {
        case .sqlite:
            let directory = FileManager.default.temporaryDirectory
                .appendingPathComponent("kitt-pgtests-\(UUID().uuidString)", isDirectory: true)
            try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
            let store = try Store(path: directory.appendingPathComponent("kitt.db").path)
            return OpenBackend(results: store.results, agents: store.agents, sessions: store, profiles: store.engineProfiles, quickTests: store.quickTests, campaigns: store.campaigns, administration: store.agents) {
                store.close()
                try? FileManager.default.removeItem(at: directory)
            }
        case .postgres:
            let store = try PostgresStore(try PostgresServer.freshDatabase(), connections: 4)
            return OpenBackend(results: store.results, agents: store.agents, sessions: store, profiles: store.engineProfiles, quickTests: store.quickTests, campaigns: store.campaigns, administration: store.agents) { store.close() }
        }
    }
}

/// One backend's repositories, closed when the value dies.
final class OpenBackend {
    let results: any ResultsStoring
    let agents: any AgentStoring
    let sessions: any WebSessionStoring
    let profiles: any EngineProfileStoring
    let quickTests: any QuickTestStoring
    let campaigns: any CampaignStoring
    let administration: any AgentAdministering
    private let cleanup: () -> Void

    init(
        results: any ResultsStoring, agents: any AgentStoring, sessions: any WebSessionStoring,
        profiles: any EngineProfileStoring, quickTests: any QuickTestStoring, campaigns: any CampaignStoring,
        administration: any AgentAdministering, cleanup: @escaping () -> Void
    ) {
        self.administration = administration
        self.campaigns = campaigns
        self.quickTests = quickTests
        self.profiles = profiles
        self.results = results
        self.agents = agents
        self.sessions = sessions
        self.cleanup = cleanup
    }

    deinit { cleanup() }
}

/// A metrics.json document in KITT's shape (two benchmarks, three numeric metrics, hardware).
func resultDocument(
    model: String = "llama-3-8b", engine: String = "vllm", suite: String = "standard",
    timestamp: String = "2026-01-01T00:00:00Z", tps: Double = 100
) throws -> ResultDocument {
    try ResultDocument(
        bytes: Array(
            """
            {"model": "\(model)", "engine": "\(engine)", "suite_name": "\(suite)", "timestamp": "\(timestamp)",
             "passed": true, "total_benchmarks": 2, "passed_count": 2, "failed_count": 0,
             "total_time_seconds": 12.5, "kitt_version": "1.2.0",
             "results": [
               {"test_name": "throughput", "test_version": "1.0", "run_number": 1, "passed": true,
                "metrics": {"avg_tps": \(tps), "p50_latency_ms": 20, "ok": true}, "errors": []},
               {"test_name": "latency", "test_version": 2, "run_number": 1, "passed": true,
                "metrics": {"avg_tps": \(tps * 3)}, "errors": []}
             ],
             "system_info": {"gpu": {"model": "H100", "vram_gb": 80, "count": 8}, "cpu": {"model": "EPYC", "cores": 64},
                             "ram_gb": 512, "environment_type": "bare_metal", "fingerprint": "fp1"}}
            """.utf8))
}

/// Waits (at most 30 s) for a completion-style store call.
func waitFor<T: Sendable>(_ start: (@escaping @Sendable (Result<T, any Error>) -> Void) -> Void) throws -> T {
    let box = Mutex<Result<T, any Error>?>(nil)
    let done = DispatchSemaphore(value: 0)
    start { result in
        box.withLock { $0 = result }
        done.signal()
    }
    guard done.wait(timeout: .now() + 30) == .success, let result = box.withLock({ $0 }) else {
        throw PostgresServer.Failure("store call timed out")
    }
    return try result.get()
}
