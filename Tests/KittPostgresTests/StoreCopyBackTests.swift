import Foundation
import KittJSON
import KittPostgres
import KittSQLite
import KittStore
import KittStorePostgres
import KittTestSupport
import Testing

/// `kitt migrate --from`'s copy: PostgreSQL back into a new SQLite store (issue 15 point 4).
@Suite(.enabled(if: PostgresServer.isAvailable, "\(PostgresServer.unavailableReason ?? "")"))
struct StoreCopyBackTests {
    /// SQLite → PostgreSQL → SQLite: every table holds the same rows, and every repository
    /// answers the same, so the summaries SQLite keeps (and PostgreSQL has not) were rebuilt.
    @Test func aRoundTripThroughPostgreSQLGivesTheSameRowsAndAnswers() throws {
        let original = try FullStore()
        defer { original.remove() }
        let pg = try PostgresStore(try PostgresServer.freshDatabase(), connections: 2)
        defer { pg.close() }
        let changesBefore = try pg.results.changeCount()
        let there = try StoreCopy.copy(from: original.store, to: pg)
        // Result caches of instances already running on the database see the change.
        #expect(try pg.results.changeCount() > changesBefore)

        let copyPath = original.directory.appendingPathComponent("copy.db")
        let copy = try FullStore.open(copyPath)
        defer { copy.close() }
        var heard: [String] = []
        let back = try StoreCopy.copy(from: pg, to: copy) { table, _ in heard.append(table) }
        #expect(back.map(\.table) == there.map(\.table))
        #expect(back.map(\.rows) == there.map(\.rows))
        #expect(heard == back.map(\.table))
        let counts = Dictionary(uniqueKeysWithValues: back.map { ($0.table, $0.rows) })
        #expect(counts["runs"] == original.resultIDs.count)
        #expect(counts["metrics"] == original.resultIDs.count * 3)
        #expect(counts["agent_commands"] == 8)  // four cleanups, three quick tests, one campaign run
        #expect(counts["quick_test_logs"] == 9)

        try expectSameRows(original.store, copy)
        try expectSameAnswers(original, copy)
        // PostgreSQL answered the same in between.
        #expect(try pg.results.list(ResultFilter(model: "m1", engine: "vllm"), limit: 50, offset: 300).items
            == original.store.results.list(ResultFilter(model: "m1", engine: "vllm"), limit: 50, offset: 300).items)

        // Both stores keep working alike: the same new result lands in the same summaries and
        // list positions, and the same queued command is handed out first.
        let added = try resultDocument(model: "m1", engine: "sglang", suite: "quick", timestamp: "2026-01-01T00:20:00Z", tps: 3.5)
        _ = try original.store.results.insert(added)
        _ = try copy.results.insert(added)
        for group in ResultGroup.allCases {
            #expect(try copy.results.aggregate(groupBy: group, metrics: ["avg_tps"]).rows
                == original.store.results.aggregate(groupBy: group, metrics: ["avg_tps"]).rows)
        }
        #expect(try copy.results.list(ResultFilter(model: "m1"), limit: 5, offset: 0).total
            == original.store.results.list(ResultFilter(model: "m1"), limit: 5, offset: 0).total)
        func firstCommand(_ store: Store) throws -> String? {
            let agents: any AgentStoring = store.agents
            return try waitFor { agents.heartbeat(idOrName: "gpu-02", AgentHeartbeat(), offlineCutoff: "", completion: $0) }.command?.id
        }
        let handed = try firstCommand(original.store)
        #expect(handed != nil)
        #expect(try firstCommand(copy) == handed)
    }

    /// A SQLite store holding anything is refused, and nothing in it changes.
    @Test func aNonEmptySQLiteTargetIsRefusedUnchanged() throws {
        let source = try FullStore(results: 10)
        defer { source.remove() }
        let pg = try PostgresStore(try PostgresServer.freshDatabase(), connections: 2)
        defer { pg.close() }
        _ = try StoreCopy.copy(from: source.store, to: pg)

        let target = try FullStore.open(source.directory.appendingPathComponent("busy.db"))
        defer { target.close() }
        let profiles: any EngineProfileStoring = target.engineProfiles
        var fields = EngineProfileFields()
        fields.name = "only"
        fields.engine = "vllm"
        let only = try profiles.create(fields)
        #expect(throws: StoreCopy.CopyError.sqliteTargetNotEmpty(table: "engine_profiles")) {
            try StoreCopy.copy(from: pg, to: target)
        }
        #expect(try profiles.list(engine: nil) == [only])
        #expect(try target.results.list(ResultFilter(), limit: 10, offset: 0).total == 0)
        #expect(try rowCount(target, "agents") == 0)
    }

    /// A copy that fails half-way (here: cancelled after the results) leaves the target
    /// empty, summaries included, and a second attempt copies everything.
    @Test func aFailedCopyLeavesTheTargetEmptyAndCanBeRetried() throws {
        let source = try FullStore(results: 450)
        defer { source.remove() }
        let pg = try PostgresStore(try PostgresServer.freshDatabase(), connections: 2)
        defer { pg.close() }
        _ = try StoreCopy.copy(from: source.store, to: pg)

        let target = try FullStore.open(source.directory.appendingPathComponent("target.db"))
        defer { target.close() }
        struct Cancelled: Error {}
        #expect(throws: Cancelled.self) {
            try StoreCopy.copy(from: pg, to: target) { table, _ in if table == "agents" { throw Cancelled() } }
        }
        for table in ["runs", "metrics", "agents", "result_groups", "metric_totals", "result_sets", "run_chunks",
                      "run_chunk_heads"] {
            #expect(try rowCount(target, table) == 0, "\(table)")
        }
        #expect(try target.results.list(ResultFilter(), limit: 10, offset: 0).total == 0)

        _ = try StoreCopy.copy(from: pg, to: target)
        try expectSameRows(source.store, target)
    }

    /// Results stored on PostgreSQL itself (its own row ids, not SQLite's), copied back: the
    /// SQLite store answers as PostgreSQL does, and keeps doing so as results are deleted
    /// on both (their benchmark and metric rows go with them, and the summaries follow).
    @Test func resultsStoredOnPostgreSQLWorkInTheSQLiteCopy() throws {
        let pg = try PostgresStore(try PostgresServer.freshDatabase(), connections: 2)
        defer { pg.close() }
        var documents: [ResultDocument] = []
        for i in 0..<40 {
            documents.append(
                try resultDocument(
                    model: FullStore.models[i % 3], engine: FullStore.engines[i % 2], suite: FullStore.suites[i % 5 == 0 ? 1 : 0],
                    timestamp: "2026-02-01T00:00:\(10 + i / 2)Z", tps: Double(i) + 0.5))
        }
        let ids = try pg.results.insertAll(documents)
        _ = try pg.results.delete(id: ids[3])

        let directory = FileManager.default.temporaryDirectory.appendingPathComponent("kitt-pgcopy-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: directory) }
        let sqlite = try FullStore.open(directory.appendingPathComponent("kitt.db"))
        defer { sqlite.close() }
        _ = try StoreCopy.copy(from: pg, to: sqlite)

        func expectSame(_ context: String) throws {
            for group in ResultGroup.allCases {
                #expect(try sqlite.results.aggregate(groupBy: group, metrics: ["avg_tps", "p50_latency_ms"]).rows
                    == pg.results.aggregate(groupBy: group, metrics: ["avg_tps", "p50_latency_ms"]).rows, "\(context) \(group)")
            }
            for filter in [ResultFilter(), ResultFilter(model: "m2"), ResultFilter(engine: "vllm", suiteName: "standard")] {
                let same = try sqlite.results.list(filter, limit: 100, offset: 0).items == pg.results.list(filter, limit: 100, offset: 0).items
                #expect(same, "\(context) \(filter)")
            }
            let pgMetrics = try pg.pool.withConnection { try $0.queryOne("SELECT count(*) FROM metrics")?.int(0) }
            #expect(try rowCount(sqlite, "metrics") == pgMetrics, "\(context): metric rows")
            #expect(try rowCount(sqlite, "benchmarks") == rowCount(sqlite, "runs") * 2, "\(context): benchmark rows")
        }
        try expectSame("copied")
        for id in [ids[0], ids[17], ids[39]] {
            #expect(try pg.results.delete(id: id))
            #expect(try sqlite.results.delete(id: id))
        }
        try expectSame("after deletes")
        #expect(try sqlite.results.get(id: ids[17]) == nil)
    }

    // MARK: Comparing two SQLite stores

    func ids(_ items: [RawJSON]) -> [String] { items.map { (try? JSON(parsing: $0.bytes))?["id"]?.stringValue ?? "?" } }

    func rowCount(_ store: Store, _ table: String) throws -> Int {
        try store.database.read { try $0.queryOne("SELECT COUNT(*) FROM \(table)")?.int(0) ?? -1 }
    }

    /// Every table but the migrations log (its times) and the list chunks (their layout
    /// depends on the order results arrived in; the list answers are compared instead):
    /// the same rows, in full, compared as sets; and the command queue in the same rowid order.
    func expectSameRows(_ a: Store, _ b: Store) throws {
        func tables(_ store: Store) throws -> [String] {
            try store.database.read { db in
                try db.query("SELECT name FROM sqlite_master WHERE type = 'table' AND name NOT LIKE 'sqlite_%' ORDER BY name")
                    .compactMap { $0.string(0) }
            }
        }
        let names = try tables(a)
        #expect(try tables(b) == names)
        #expect(names.contains("runs") && names.contains("result_groups") && names.contains("web_sessions"))
        for table in names where !["schema_migrations", "run_chunks", "run_chunk_heads", "results_changes"].contains(table) {
            func rows(_ store: Store) throws -> [[SQLiteValue]] {
                try store.database.read { db in
                    let columns = try db.query("SELECT name FROM pragma_table_info(?)", [.text(table)]).count
                    let order = (1...columns).map(String.init).joined(separator: ", ")
                    return try db.query("SELECT * FROM \(table) ORDER BY \(order)").map { row in (0..<row.count).map { row[$0] } }
                }
            }
            let original = try rows(a)
            #expect(try rows(b) == original, "\(table)")
            #expect(!original.isEmpty, "\(table) is empty in the original: the comparison proves nothing")
        }
        func queue(_ store: Store) throws -> [String] {
            try store.database.read { try $0.query("SELECT id FROM agent_commands ORDER BY rowid").compactMap { $0.string(0) } }
        }
        #expect(try queue(b) == queue(a))
    }

    /// The repositories' answers: result pages under every filter combination (across list
    /// chunks), aggregates by each group, gets; agents, tokens, settings, commands, quick
    /// tests and their logs, campaigns and theirs, profiles, sessions.
    func expectSameAnswers(_ a: FullStore, _ b: Store) throws {
        let x = a.store
        for model in [nil, "m1"] as [String?] {
            for engine in [nil, "sglang"] as [String?] {
                for suite in [nil, "quick"] as [String?] {
                    let filter = ResultFilter(model: model, engine: engine, suiteName: suite)
                    for offset in [0, 170, 1_020, 1_023, 2_000] {
                        let want = try x.results.list(filter, limit: 40, offset: offset)
                        let got = try b.results.list(filter, limit: 40, offset: offset)
                        #expect(got.total == want.total, "\(filter) total")
                        // Compared whole, reported by id (the documents would flood the log).
                        let same = got.items == want.items
                        #expect(same, "\(filter) at \(offset): \(ids(got.items)) != \(ids(want.items))")
                    }
                }
            }
        }
        #expect(try x.results.list(ResultFilter(), limit: 1, offset: 0).total == a.resultIDs.count)
        for group in ResultGroup.allCases {
            let metrics = ["avg_tps", "p50_latency_ms", "missing"]
            let want = try x.results.aggregate(groupBy: group, metrics: metrics)
            #expect(want.rows.count >= 2)
            #expect(try b.results.aggregate(groupBy: group, metrics: metrics).rows == want.rows, "\(group)")
        }
        let everyResult = try b.results.get(ids: a.resultIDs) == x.results.get(ids: a.resultIDs)
        #expect(everyResult, "the results read by id differ")
        let one = try b.results.get(id: a.resultIDs[1]) == x.results.get(id: a.resultIDs[1])
        #expect(one)

        let (xa, ba): (any AgentStoring, any AgentStoring) = (x.agents, b.agents)
        let (xd, bd): (any AgentAdministering, any AgentAdministering) = (x.agents, b.agents)
        #expect(try ba.list(limit: 50, offset: 0, offlineCutoff: "").items == xa.list(limit: 50, offset: 0, offlineCutoff: "").items)
        for id in a.agentIDs {
            #expect(try ba.get(idOrName: id, offlineCutoff: "") == xa.get(idOrName: id, offlineCutoff: ""))
            #expect(try bd.settings(idOrName: id)?.map { "\($0.key)=\($0.value)" } == xd.settings(idOrName: id)?.map { "\($0.key)=\($0.value)" })
        }
        #expect(try bd.identity(tokenHash: "ab12cd")?.id == a.agentIDs[3])
        #expect(try bd.installTokenIsPending(hash: "install-1", createdAfter: "2000"))
        #expect(try bd.reportedEngines() == xd.reportedEngines())

        let (xq, bq): (any QuickTestStoring, any QuickTestStoring) = (x.quickTests, b.quickTests)
        #expect(try bq.list(status: nil, agentName: nil, campaignID: nil, limit: 50, offset: 0).items
            == xq.list(status: nil, agentName: nil, campaignID: nil, limit: 50, offset: 0).items)
        for id in a.quickTestIDs {
            #expect(try bq.get(id: id) == xq.get(id: id))
            #expect(try bq.logs(testID: id) == xq.logs(testID: id))
        }
        for id in a.agentIDs { #expect(try bq.commands(agentID: id, status: nil) == xq.commands(agentID: id, status: nil)) }
        #expect(try bq.agents() == xq.agents())

        let (xc, bc): (any CampaignStoring, any CampaignStoring) = (x.campaigns, b.campaigns)
        #expect(try bc.list(status: nil, limit: 10, offset: 0).items == xc.list(status: nil, limit: 10, offset: 0).items)
        for id in a.campaignIDs {
            #expect(try bc.get(id: id) == xc.get(id: id))
            #expect(try bc.logs(campaignID: id) == xc.logs(campaignID: id))
        }
        let (xp, bp): (any EngineProfileStoring, any EngineProfileStoring) = (x.engineProfiles, b.engineProfiles)
        #expect(try bp.list(engine: nil) == xp.list(engine: nil))
        let (xs, bs): (any WebSessionStoring, any WebSessionStoring) = (x, b)
        #expect(try bs.liveWebSessions(now: 0) == xs.liveWebSessions(now: 0))
    }
}
