import Foundation
import KittJSON
import KittPostgres
import KittStore
import KittStorePostgres
import KittTestSupport
import Testing

@Suite(.enabled(if: PostgresServer.isAvailable, "\(PostgresServer.unavailableReason ?? "")"))
struct StoreCopyTests {
    @Test func aSQLiteStoreCopiedIntoPostgreSQLReadsTheSame() throws {
        let directory = FileManager.default.temporaryDirectory.appendingPathComponent("kitt-copy-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: directory) }
        let sqlite = try Store(path: directory.appendingPathComponent("kitt.db").path)
        defer { sqlite.close() }
        try sqlite.results.insertAll([
            try resultDocument(model: "a", timestamp: "2026-01-02T00:00:00Z", tps: 5),
            try resultDocument(model: "b", engine: "sglang", timestamp: "2026-01-01T00:00:00Z", tps: 7),
            try resultDocument(model: "a", timestamp: "2026-01-03T00:00:00Z", tps: 9),
        ])
        var beat = AgentHeartbeat()
        beat.engines = [AgentEngine(engine: "vllm", installed: true)]
        let agent = try waitFor {
            sqlite.agents.register(AgentRegistration(name: "gpu-07", hostname: "h7"), tokenAgentID: nil, completion: $0)
        }
        _ = try waitFor { sqlite.agents.heartbeat(idOrName: "gpu-07", beat, offlineCutoff: "", completion: $0) }
        let queued = try sqlite.agents.queueCommand(agentID: agent.agentID, type: "cleanup_storage", payload: .object(JSONObject()))

        let pg = try PostgresStore(try PostgresServer.freshDatabase(), connections: 2)
        defer { pg.close() }
        let copied = try StoreCopy.copy(from: sqlite, to: pg)
        let counts = Dictionary(uniqueKeysWithValues: copied.map { ($0.table, $0.rows) })
        #expect(counts["runs"] == 3)
        #expect(counts["metrics"] == 9)
        #expect(counts["agents"] == 1)
        #expect(counts["agent_commands"] == 1)

        // The same answers, byte for byte, from both stores.
        let all = ResultFilter()
        #expect(try pg.results.list(all, limit: 10, offset: 0).items == sqlite.results.list(all, limit: 10, offset: 0).items)
        #expect(try pg.results.list(ResultFilter(model: "a"), limit: 10, offset: 0).total == 2)
        #expect(try pg.results.aggregate(groupBy: .model, metrics: ["avg_tps"]).rows
            == sqlite.results.aggregate(groupBy: .model, metrics: ["avg_tps"]).rows)
        #expect(try pg.agents.get(idOrName: "gpu-07", offlineCutoff: "") == sqlite.agents.get(idOrName: "gpu-07", offlineCutoff: ""))
        // The copied queue works: the command is handed out on PostgreSQL.
        let handed = try waitFor { pg.agents.heartbeat(idOrName: "gpu-07", AgentHeartbeat(), offlineCutoff: "", completion: $0) }
        #expect(handed.command?.id == queued)
        // Identity counters continue after the copied keys: new rows insert.
        let newID = try pg.results.insert(try resultDocument(model: "c"))
        #expect(try pg.results.get(id: newID) != nil)

        // A second copy into the now non-empty database is refused, and changes nothing.
        #expect(throws: StoreCopy.CopyError.targetNotEmpty(table: "runs")) { try StoreCopy.copy(from: sqlite, to: pg) }
        #expect(try pg.results.list(all, limit: 10, offset: 0).total == 4)
    }

    /// A value PostgreSQL cannot hold (text with NUL, which SQLite keeps) fails the copy
    /// naming its table, and the target stays empty: the tables copied before it too.
    @Test func aFailedCopyNamesTheTableAndLeavesPostgreSQLEmpty() throws {
        let source = try FullStore(results: 30)
        defer { source.remove() }
        try source.store.database.write {
            _ = try $0.run("UPDATE engine_profiles SET description = 'a' || char(0) || 'b' WHERE name = 'sg'")
        }
        let pg = try PostgresStore(try PostgresServer.freshDatabase(), connections: 2)
        defer { pg.close() }
        let error = #expect(throws: StoreCopy.CopyError.self) { try StoreCopy.copy(from: source.store, to: pg) }
        guard case .failed(let table, let reason) = error else {
            Issue.record("\(String(describing: error))")
            return
        }
        #expect(table == "engine_profiles" && reason.contains("NUL"), "\(reason)")
        #expect(try pg.results.list(ResultFilter(), limit: 1, offset: 0).total == 0)
        #expect(try pg.pool.withConnection { try $0.queryOne("SELECT count(*) FROM agents")?.int(0) } == 0)
        // Fixed at the source, the copy goes through.
        try source.store.database.write { _ = try $0.run("UPDATE engine_profiles SET description = 'ab' WHERE name = 'sg'") }
        #expect(try StoreCopy.copy(from: source.store, to: pg).first { $0.table == "runs" }?.rows == source.resultIDs.count)
    }
}
