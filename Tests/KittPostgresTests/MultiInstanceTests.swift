import Dispatch
import KittJSON
import KittPostgres
import KittStore
import KittStorePostgres
import Synchronization
import KittTestSupport
import Testing

/// Several kitt instances on one database, modelled as several `PostgresStore`s (each its
/// own pool, as separate processes would have).
@Suite(.enabled(if: PostgresServer.isAvailable, "\(PostgresServer.unavailableReason ?? "")"))
struct MultiInstanceTests {
    @Test func instancesStartingTogetherMigrateOnce() throws {
        let info = try PostgresServer.freshDatabase()
        let group = DispatchGroup()
        let errors = Mutex<[String]>([])
        for _ in 0..<4 {
            DispatchQueue(label: "instance").async(group: group) {
                do { try PostgresStore(info, connections: 1).close() } catch {
                    errors.withLock { $0.append("\(error)") }
                }
            }
        }
        #expect(group.wait(timeout: .now() + 60) == .success)
        #expect(errors.withLock { $0 } == [])
        let c = try PostgresConnection(info)
        #expect(try c.schemaVersion() == PostgresSchema.migrations.last?.version)
        let applied = try c.query("SELECT version FROM schema_migrations ORDER BY version").rows.map { $0.int(0) }
        #expect(applied == PostgresSchema.migrations.map(\.version))
    }

    @Test func aNewerSchemaIsRefused() throws {
        let info = try PostgresServer.freshDatabase()
        try PostgresStore(info, connections: 1).close()
        let c = try PostgresConnection(info)
        try c.run("INSERT INTO schema_migrations (version, name) VALUES (99, 'from the future')")
        let error = #expect(throws: PostgresError.self) { try PostgresStore(info, connections: 1) }
        #expect(error?.message.contains("newer than this kitt") == true)
    }

    @Test func aFailingMigrationLeavesNothingBehind() throws {
        let c = try PostgresConnection(try PostgresServer.freshDatabase())
        let broken = [
            PostgresMigration(version: 1, name: "one", sql: "CREATE TABLE a (x int)"),
            PostgresMigration(version: 2, name: "two", sql: "CREATE TABLE b (x int); SELECT nonsense"),
        ]
        let error = #expect(throws: PostgresError.self) { try c.migrate(broken) }
        #expect(error?.message.contains("migration 2 (two) failed") == true)
        #expect(error?.sqlState == "42703")
        #expect(try c.schemaVersion() == 1)
        #expect(try c.queryOne("SELECT to_regclass('b') IS NULL")?.bool(0) == true)
    }

    /// Heartbeats from many threads to two instances at once: every queued command is
    /// handed out exactly once (SKIP LOCKED), none lost, none twice.
    @Test func concurrentHeartbeatsToTwoInstancesTakeEachCommandOnce() throws {
        let info = try PostgresServer.freshDatabase()
        let instances = [try PostgresStore(info, connections: 4), try PostgresStore(info, connections: 4)]
        defer { for store in instances { store.close() } }
        let agent = try waitFor {
            instances[0].agents.register(
                AgentRegistration(name: "gpu-01", hostname: "h"), tokenAgentID: nil, installTokenHash: nil,
                installTokenCutoff: "", completion: $0)
        }
        let commandCount = 40
        var queued: Set<String> = []
        for i in 0..<commandCount {
            queued.insert(
                try instances[i % 2].agents.queueCommand(
                    agentID: agent.agentID, type: "cleanup_storage", testID: nil, payload: .object(JSONObject())))
        }
        let handedOut = Mutex<[String]>([])
        let failures = Mutex<[String]>([])
        let group = DispatchGroup()
        // 8 pollers, alternating instances, until every command is out (or 30 s).
        for poller in 0..<8 {
            DispatchQueue(label: "agent-\(poller)").async(group: group) {
                let store = instances[poller % 2]
                var idle = 0
                while idle < 3 {
                    do {
                        let outcome = try waitFor {
                            store.agents.heartbeat(idOrName: "gpu-01", AgentHeartbeat(), offlineCutoff: "", completion: $0)
                        }
                        if let id = outcome.command?.id { handedOut.withLock { $0.append(id) } } else { idle += 1 }
                    } catch {
                        failures.withLock { $0.append("\(error)") }
                        return
                    }
                }
            }
        }
        #expect(group.wait(timeout: .now() + 60) == .success)
        #expect(failures.withLock { $0 } == [])
        let out = handedOut.withLock { $0 }
        #expect(out.count == commandCount)
        #expect(Set(out) == queued)
    }

    /// Two instances finishing the same test at once (the agent's report on one, the
    /// timeout sweep on the other): it changes once, so one event is published.
    @Test func concurrentTransitionsOnTwoInstancesChangeATestOnce() throws {
        let info = try PostgresServer.freshDatabase()
        let instances = [try PostgresStore(info, connections: 4), try PostgresStore(info, connections: 4)]
        defer { for store in instances { store.close() } }
        let agent = try waitFor {
            instances[0].agents.register(
                AgentRegistration(name: "gpu-t", hostname: "h"), tokenAgentID: nil, installTokenHash: nil,
                installTokenCutoff: "", completion: $0)
        }
        for _ in 0..<10 {
            let test = try instances[0].quickTests.create(
                NewQuickTest(agentID: agent.agentID, agentName: "gpu-t", modelPath: "/m", engineName: "vllm"))
            let changes = Mutex(0)
            let group = DispatchGroup()
            for worker in 0..<6 {
                DispatchQueue(label: "finisher-\(worker)").async(group: group) {
                    let outcome = try? instances[worker % 2].quickTests.transition(
                        id: test.id, to: .completed, error: nil, agentID: nil)
                    if outcome?.changed == true { changes.withLock { $0 += 1 } }
                }
            }
            #expect(group.wait(timeout: .now() + 30) == .success)
            #expect(changes.withLock { $0 } == 1)
        }
    }

    /// Two instances' runners queueing the next run of one campaign at once: one run is queued.
    @Test func concurrentQueueRunsOnTwoInstancesQueueOneTest() throws {
        let info = try PostgresServer.freshDatabase()
        let instances = [try PostgresStore(info, connections: 4), try PostgresStore(info, connections: 4)]
        defer { for store in instances { store.close() } }
        let agent = try waitFor {
            instances[0].agents.register(
                AgentRegistration(name: "gpu-k", hostname: "h"), tokenAgentID: nil, installTokenHash: nil,
                installTokenCutoff: "", completion: $0)
        }.agentID
        let campaign = try instances[0].campaigns.create(name: "c", description: "", agentID: agent, config: "{}")
        _ = try instances[0].campaigns.markQueued(id: campaign.id)
        _ = try instances[0].campaigns.markRunning(id: campaign.id, totalRuns: 1, line: nil)
        let queued = Mutex(0)
        let group = DispatchGroup()
        for worker in 0..<6 {
            DispatchQueue(label: "runner-\(worker)").async(group: group) {
                let test = NewQuickTest(agentID: agent, agentName: "gpu-k", modelPath: "/m", engineName: "vllm")
                if (try? instances[worker % 2].campaigns.queueRun(campaignID: campaign.id, test: test, line: "run")) != nil {
                    queued.withLock { $0 += 1 }
                }
            }
        }
        #expect(group.wait(timeout: .now() + 30) == .success)
        #expect(queued.withLock { $0 } == 1)
        #expect(try instances[1].quickTests.list(status: nil, agentName: nil, campaignID: campaign.id, limit: 10, offset: 0).total == 1)
    }

    /// A response cache on one instance learns of result writes made through another.
    @Test func resultChangesOnOneInstanceMoveTheChangeCountOnAnother() throws {
        let info = try PostgresServer.freshDatabase()
        let a = try PostgresStore(info, connections: 2)
        let b = try PostgresStore(info, connections: 2)
        defer { a.close(); b.close() }
        let start = try b.results.changeCount()
        let id = try a.results.insert(try resultDocument())
        let afterInsert = try b.results.changeCount()
        #expect(afterInsert > start)
        #expect(try !a.results.delete(id: "0000000000000000"))
        #expect(try b.results.changeCount() == afterInsert)  // nothing changed, nothing counted
        #expect(try a.results.delete(id: id))
        #expect(try b.results.changeCount() > afterInsert)
    }

    /// Two importers on two instances loading the same runs at once store each run once.
    @Test func concurrentInsertNewOnTwoInstancesStoresEachRunOnce() throws {
        let info = try PostgresServer.freshDatabase()
        let instances = [try PostgresStore(info, connections: 4), try PostgresStore(info, connections: 4)]
        defer { for store in instances { store.close() } }
        let documents = try (0..<20).map { try resultDocument(model: "m\($0)") }
        let stored = Mutex(0)
        let group = DispatchGroup()
        for worker in 0..<4 {
            DispatchQueue(label: "importer-\(worker)").async(group: group) {
                let ids = (try? instances[worker % 2].results.insertNew(documents)) ?? []
                stored.withLock { $0 += ids.compactMap { $0 }.count }
            }
        }
        #expect(group.wait(timeout: .now() + 60) == .success)
        #expect(stored.withLock { $0 } == 20)
        #expect(try instances[0].results.list(ResultFilter(), limit: 100, offset: 0).total == 20)
    }
}
