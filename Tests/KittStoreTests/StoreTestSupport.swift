#if canImport(FoundationEssentials)
import FoundationEssentials
#else
import Foundation
#endif
import KittSQLite
import KittStore

/// A Store in a fresh temp directory, removed (with the database) when the value dies.
final class TempStore {
    let directory: URL
    let store: Store

    init(synchronous: Synchronous = .full, checkpointPolicy: CheckpointPolicy = CheckpointPolicy()) throws {
        directory = FileManager.default.temporaryDirectory
            .appendingPathComponent("kitt-store-\(UUID().uuidString)", isDirectory: true)
        try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
        store = try Store(
            path: directory.appendingPathComponent("kitt.db").path, synchronous: synchronous,
            checkpointPolicy: checkpointPolicy)
    }

    deinit {
        store.close()
        try? FileManager.default.removeItem(at: directory)
    }
}

/// A metrics.json document in KITT's shape.
func resultJSON(
    model: String = "llama-3-8b", engine: String = "vllm", suite: String = "standard",
    timestamp: String = "2026-01-01T00:00:00Z", tps: Double = 100, extra: String = ""
) -> [UInt8] {
    Array(
        """
        {"model": "\(model)", "engine": "\(engine)", "suite_name": "\(suite)", "timestamp": "\(timestamp)",
         "passed": true, "total_benchmarks": 2, "passed_count": 2, "failed_count": 0,
         "total_time_seconds": 12.5, "kitt_version": "1.2.0"\(extra),
         "results": [
           {"test_name": "throughput", "test_version": "1.0", "run_number": 1, "passed": true,
            "metrics": {"avg_tps": \(tps), "p50_latency_ms": 20, "ok": true, "label": "x"}, "errors": []},
           {"test_name": "latency", "test_version": 2, "run_number": 1, "passed": true,
            "metrics": {"avg_tps": \(tps * 3)}, "errors": []}
         ],
         "system_info": {"gpu": {"model": "H100", "vram_gb": 80, "count": 8}, "cpu": {"model": "EPYC", "cores": 64},
                         "ram_gb": 512, "environment_type": "bare_metal", "fingerprint": "fp1"}}
        """.utf8)
}
