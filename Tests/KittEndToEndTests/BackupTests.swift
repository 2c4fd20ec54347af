import Foundation
import KittJSON
import KittSQLite
import KittTestSupport
import Synchronization
import Testing

/// `kitt backup` while the real server takes results, and `kitt restore` (SPEC §7.3).
@Suite(.serialized) struct BackupTests {
    let cli = CommandLineTests()

    /// Posts results as an agent would, one after another on a keep-alive connection, until told
    /// to stop; keeps the id of every acknowledged (202, durable) result in order.
    final class ResultWriter: @unchecked Sendable {
        let acknowledged = Mutex<[String]>([])
        let failure = Mutex<String?>(nil)
        private let stopping = Atomic<Bool>(false)
        private let done = DispatchSemaphore(value: 0)

        init(server: TestServer, agentID: String) {
            Thread {
                defer { self.done.signal() }
                do {
                    let client = try server.connect()
                    var n = 0
                    while !self.stopping.load(ordering: .relaxed) {
                        n += 1
                        let document: JSON = [
                            "model": .string("backup-model-\(n % 7)"), "engine": "vllm", "suite_name": "quick",
                            "timestamp": "2026-12-04T10:00:00Z", "passed": true, "total_benchmarks": 1,
                            "results": [["test_name": "throughput", "passed": true, "metrics": ["rps": .double(Double(n))]]],
                        ]
                        let body = JSON.object(["status": "completed", "result_data": document]).serialized()
                        try client.send(
                            Array(
                                ("POST /api/v1/agents/\(agentID)/results HTTP/1.1\r\nHost: localhost\r\n"
                                    + "Authorization: Bearer \(TestServer.defaultToken)\r\nContent-Type: application/json\r\n"
                                    + "Content-Length: \(body.count)\r\n\r\n").utf8) + body)
                        let response = try client.readResponse()
                        guard response.status == 202, let id = response.json?["result_id"]?.stringValue else {
                            throw POSIXError(.EPROTO, userInfo: [NSLocalizedDescriptionKey: "\(response)"])
                        }
                        self.acknowledged.withLock { $0.append(id) }
                    }
                } catch {
                    self.failure.withLock { $0 = "\(error)" }
                }
            }.start()
        }

        var count: Int { acknowledged.withLock { $0.count } }

        func stop() {
            stopping.store(true, ordering: .relaxed)
            done.wait()
        }
    }

    func storedIDs(_ path: String) throws -> Set<String> {
        let database = try Database(path: path, readerCount: 1)
        defer { database.close() }
        return try database.read { connection in Set(try connection.query("SELECT id FROM runs").compactMap { $0.string(0) }) }
    }

    @Test func backupUnderWriteLoad_isConsistent_andHoldsEveryAcknowledgedResult() throws {
        let server = try E2E.server()
        defer { server.stop() }
        let registered = try server.request("POST", "/api/v1/agents/register", json: ["name": "backup-agent", "hostname": "h"])
        let agentID = try #require(registered.json?["agent_id"]?.stringValue)
        let writer = ResultWriter(server: server, agentID: agentID)
        #expect(E2E.eventually(timeout: 30) { writer.count >= 200 }, "writer: \(writer.failure.withLock { $0 } ?? "slow")")

        let before = Set(writer.acknowledged.withLock { $0 })
        let copy = server.directory.path + "/backup.db"
        let result = try cli.run(["backup", copy, "--data-dir", server.directory.path])
        let during = writer.count - before.count
        let afterBackup = writer.count
        #expect(E2E.eventually(timeout: 10) { writer.count > afterBackup }, "the server kept taking results")
        writer.stop()
        #expect(writer.failure.withLock { $0 } == nil, "\(writer.failure.withLock { $0 } ?? "")")
        // Another process sees everything the server acknowledged, after the backup too: the
        // backup's connection closing must not have deleted the WAL the server writes to.
        let live = server.directory.path + "/kitt.db"
        #expect(FileManager.default.fileExists(atPath: live + "-wal"), "the running server's WAL was deleted")
        let acknowledged = Set(writer.acknowledged.withLock { $0 })
        let visible = try storedIDs(live)
        #expect(acknowledged.isSubset(of: visible), "\(acknowledged.subtracting(visible).count) acknowledged results not visible")

        #expect(result.status == 0, "\(result.stderr)")
        #expect(result.stdout.contains("integrity ok"), "\(result.stdout)")
        #expect(try OnlineBackup.integrityCheck(copy) == "ok")
        let stored = try storedIDs(copy)
        #expect(before.isSubset(of: stored), "missing \(before.subtracting(stored).count) of \(before.count) acknowledged results")
        // A snapshot: no more than what was acknowledged by the end of the backup (plus the one in flight).
        #expect(stored.count <= before.count + during + 1, "\(stored.count) rows, \(before.count)+\(during) acknowledged")
        let mode = try FileManager.default.attributesOfItem(atPath: copy)[.posixPermissions] as? Int
        #expect(mode == 0o600)
        // Never overwrites.
        let again = try cli.run(["backup", copy, "--data-dir", server.directory.path])
        #expect(again.status == 1 && again.stderr.contains("already exists"), "\(again.stderr)")
    }

    @Test func restore_refusesWhileServing_thenReplacesTheDatabase() throws {
        let data = TempDirectory("kitt-restore")
        var server = try TestServer.start(directory: data) { $0.headerTimeout = 3 }
        defer { server.stop() }
        let created = try server.request(
            "POST", "/api/v1/agents/register", json: ["name": "kept-agent", "hostname": "h"])
        #expect(created.status == 201)
        let copy = data.path + "/saved.db"
        #expect(try cli.run(["backup", copy, "--data-dir", data.path]).status == 0)
        #expect(try server.request("POST", "/api/v1/agents/register", json: ["name": "later-agent", "hostname": "h"]).status == 201)

        let refused = try cli.run(["restore", copy, "--data-dir", data.path])
        #expect(refused.status == 1)
        #expect(refused.stderr.contains("stop it first"), "\(refused.stderr)")

        server.stop()
        let garbage = data.path + "/garbage.db"
        try Data(repeating: 0x42, count: 8192).write(to: URL(fileURLWithPath: garbage))
        let corrupt = try cli.run(["restore", garbage, "--data-dir", data.path])
        #expect(corrupt.status == 1, "\(corrupt.stdout)")

        // As root, the restored file keeps the replaced database's owner (a service user's).
        let asRoot = getuid() == 0
        if asRoot { chown(data.path + "/kitt.db", 65534, 65534) }
        let restored = try cli.run(["restore", copy, "--data-dir", data.path])
        if asRoot {
            let owner = try FileManager.default.attributesOfItem(atPath: data.path + "/kitt.db")[.ownerAccountID] as? Int
            #expect(owner == 65534)
            chown(data.path + "/kitt.db", 0, 0)
        }
        #expect(restored.status == 0, "\(restored.stderr)")
        #expect(restored.stdout.contains("kept as \(data.path)/kitt.db.pre-restore-"), "\(restored.stdout)")

        server = try TestServer.start(directory: data)
        let names = try server.request("GET", "/api/v1/agents").json?["items"]?.arrayValue?.compactMap { $0["name"]?.stringValue }
        #expect(names == ["kept-agent"], "\(String(describing: names))")
    }
}
