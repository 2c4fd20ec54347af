#if canImport(Glibc)
import Glibc
#endif
import Dispatch
import KittAPI
import KittHTTP
import KittJSON
import KittStore
import Synchronization
import KittTestSupport
import Testing

@Suite struct AgentAPITests {
    @Test func registerValidationAndAuth() throws {
        let h = try APIHarness.agentFacing()
        let body = #"{"name": "gpu-1", "hostname": "gpu-1.lab", "port": 8091, "gpu_info": "H100", "gpu_count": 8, "ram_gb": 512.5, "capabilities": ["vllm"]}"#
        #expect(try h.execute(.post, "/api/v1/agents/register", body: body, admin: false).status == 401)
        #expect(try h.execute(.post, "/api/v1/agents/register", body: body, token: "wrong").status == 403)
        let created = try h.execute(.post, "/api/v1/agents/register", body: body)
        #expect(created.status == 201)
        let id = try #require(created.json?["agent_id"]?.stringValue)
        #expect(StoreID.isValid(id))
        #expect(created.json?["heartbeat_interval_s"]?.intValue == 30)
        let again = try h.execute(.post, "/api/v1/agents/register", body: body)
        #expect(again.json?["agent_id"]?.stringValue == id)

        for bad in [
            #"{"hostname": "h"}"#, #"{"name": "x"}"#, #"{"name": 1, "hostname": "h"}"#,
            #"{"name": "x", "hostname": "h", "port": "80"}"#, #"{"name": "x", "hostname": "h", "gpu_count": 1.5}"#,
            #"{"name": "x", "hostname": "h", "capabilities": "vllm"}"#, #"{"name": "x", "hostname": "h", "capabilities": [1]}"#,
            #"{"name": "x", "hostname": "h", "ram_gb": "lots"}"#, #"{"name": "x", "hostname": "h", "hardware_details": {}}"#,
            "[]", "{", "",
        ] {
            let reply = try h.execute(.post, "/api/v1/agents/register", body: bad)
            #expect(reply.status == 400, "\(bad)")
            #expect(reply.error != nil)
        }
    }

    @Test func listGetPatchDeleteNeverShowTokens() throws {
        let h = try APIHarness.agentFacing()
        let a = try h.registerAgent("b-agent")
        let b = try h.registerAgent("a-agent")
        let install = try h.execute(.get, "/api/v1/agent/install.sh?name=b-agent")
        #expect(install.status == 200, "\(install.text)")  // gives b-agent a token hash
        let list = try h.execute(.get, "/api/v1/agents/", admin: false)
        #expect(list.status == 200)
        #expect(list.json?["total"]?.intValue == 2)
        #expect(list.json?["items"]?.arrayValue?.compactMap { $0["name"]?.stringValue } == ["a-agent", "b-agent"])
        #expect(!list.text.contains("token"))
        #expect(try h.execute(.get, "/api/v1/agents?per_page=0").status == 400)
        #expect(try h.execute(.get, "/api/v1/agents?page=5").json?["items"] == .array([]))

        let one = try h.execute(.get, "/api/v1/agents/\(a)", admin: false)
        #expect(one.status == 200)
        #expect(one.json?["name"]?.stringValue == "b-agent")
        #expect(one.json?["status"]?.stringValue == "online")
        #expect(!one.text.contains("token"))
        #expect(try h.execute(.get, "/api/v1/agents/ffffffffffffffff").status == 404)

        #expect(try h.execute(.patch, "/api/v1/agents/\(a)", body: #"{"notes":"x"}"#, admin: false).status == 401)
        #expect(try h.execute(.patch, "/api/v1/agents/ffffffffffffffff", body: #"{"notes":"x"}"#, token: "bad").status == 403)
        #expect(try h.execute(.patch, "/api/v1/agents/ffffffffffffffff", body: #"{"notes":"x"}"#).status == 404)
        #expect(try h.execute(.patch, "/api/v1/agents/\(a)", body: #"{"color":"red"}"#).status == 400)
        #expect(try h.execute(.patch, "/api/v1/agents/\(a)", body: #"{"notes": 5}"#).status == 400)
        #expect(try h.execute(.patch, "/api/v1/agents/\(a)", body: #"{"tags": ["x", 1]}"#).status == 400)
        let patched = try h.execute(.patch, "/api/v1/agents/\(a)", body: #"{"notes": "rack 4", "tags": ["h100", "lab"]}"#)
        #expect(patched.json == ["updated": true])
        let after = try h.execute(.get, "/api/v1/agents/\(a)").json
        #expect(after?["notes"]?.stringValue == "rack 4")
        #expect(after?["tags"] == ["h100", "lab"])

        #expect(try h.execute(.delete, "/api/v1/agents/\(b)", admin: false).status == 401)
        #expect(try h.execute(.delete, "/api/v1/agents/\(b)", token: "bad").status == 403)
        #expect(try h.execute(.delete, "/api/v1/agents/\(b)").json == ["deleted": true])
        #expect(try h.execute(.delete, "/api/v1/agents/\(b)").status == 404)
        #expect(try h.execute(.get, "/api/v1/agents/\(b)").status == 404)
    }

    @Test func settingsGetPutValidation() throws {
        let h = try APIHarness.agentFacing()
        let id = try h.registerAgent("gpu-1")
        #expect(try h.execute(.get, "/api/v1/agents/\(id)/settings", admin: false).status == 401)
        #expect(try h.execute(.get, "/api/v1/agents/ffffffffffffffff/settings", token: "bad").status == 403)
        #expect(try h.execute(.get, "/api/v1/agents/ffffffffffffffff/settings").status == 404)
        let defaults = try h.execute(.get, "/api/v1/agents/\(id)/settings")
        #expect(defaults.json == [
            "model_storage_dir": "~/.kitt/models", "model_share_source": "", "model_share_mount": "",
            "auto_cleanup": "true", "heartbeat_interval_s": "30", "kitt_image": "",
        ])
        let put = try h.execute(.put, "/api/v1/agents/\(id)/settings", body: #"{"auto_cleanup": false, "heartbeat_interval_s": 60, "kitt_image": "kitt:1", "bogus": 1}"#)
        #expect(put.json == ["updated": true])
        let now = try h.execute(.get, "/api/v1/agents/\(id)/settings").json
        #expect(now?["auto_cleanup"]?.stringValue == "false")
        #expect(now?["heartbeat_interval_s"]?.stringValue == "60")
        #expect(now?["kitt_image"]?.stringValue == "kitt:1")
        #expect(now?["bogus"] == nil)
        for bad in [#"{"bogus": 1}"#, #"{}"#, #"{"heartbeat_interval_s": 5}"#, #"{"heartbeat_interval_s": 301}"#,
                    #"{"heartbeat_interval_s": "abc"}"#, #"{"heartbeat_interval_s": 30.5}"#, #"{"kitt_image": [1]}"#, "[]"] {
            #expect(try h.execute(.put, "/api/v1/agents/\(id)/settings", body: bad).status == 400, "\(bad)")
        }
        #expect(try h.execute(.put, "/api/v1/agents/ffffffffffffffff/settings", body: #"{"kitt_image": "x"}"#).status == 404)
        // Register answers the interval now stored.
        let again = try h.execute(.post, "/api/v1/agents/register", body: #"{"name": "gpu-1", "hostname": "h"}"#)
        #expect(again.json?["heartbeat_interval_s"]?.intValue == 60)
    }

    @Test func heartbeatByIdOrNameWithSettingsAndEngines() throws {
        let h = try APIHarness.agentFacing()
        let id = try h.registerAgent("gpu-1")
        let beat = try h.execute(.post, "/api/v1/agents/gpu-1/heartbeat", body: #"{"status": "idle", "gpu_utilization_pct": 12.5, "storage_gb_free": 900, "engines": [{"engine": "vllm", "installed": true, "running": false, "version": "0.6.1", "binary_path": "/usr/bin/vllm"}]}"#)
        #expect(beat.status == 200)
        #expect(beat.json?["ack"] == true)
        #expect(beat.json?["agent_id"]?.stringValue == id)
        #expect(beat.json?["commands"] == .array([]))
        #expect(beat.json?["settings"]?["heartbeat_interval_s"]?.stringValue == "30")
        let agent = try h.execute(.get, "/api/v1/agents/\(id)").json
        #expect(agent?["status"]?.stringValue == "idle")
        #expect(agent?["gpu_utilization_pct"]?.doubleValue == 12.5)
        #expect(agent?["engines"]?.arrayValue?.first?["binary_path"]?.stringValue == "/usr/bin/vllm")
        // An empty body is a plain heartbeat.
        #expect(try h.execute(.post, "/api/v1/agents/\(id)/heartbeat").status == 200)
        #expect(try h.execute(.post, "/api/v1/agents/ghost/heartbeat", body: "{}").status == 404)
        #expect(try h.execute(.post, "/api/v1/agents/ghost/heartbeat", body: "{}", admin: false).status == 401)
        #expect(try h.execute(.post, "/api/v1/agents/ghost/heartbeat", body: "{}", token: "bad").status == 403)
        for bad in [#"{"status": 1}"#, #"{"uptime_s": "long"}"#, #"{"engines": {}}"#, #"{"engines": [{"installed": true}]}"#,
                    #"{"engines": [{"engine": "x", "running": "yes"}]}"#, "[1]"] {
            #expect(try h.execute(.post, "/api/v1/agents/\(id)/heartbeat", body: bad).status == 400, "\(bad)")
        }
    }

    @Test func cleanupIsDeliveredByExactlyOneHeartbeat() throws {
        let h = try APIHarness.agentFacing()
        let id = try h.registerAgent("gpu-1")
        #expect(try h.execute(.post, "/api/v1/agents/\(id)/cleanup", body: "{}", admin: false).status == 401)
        #expect(try h.execute(.post, "/api/v1/agents/ffffffffffffffff/cleanup", body: "{}", token: "bad").status == 403)
        #expect(try h.execute(.post, "/api/v1/agents/ffffffffffffffff/cleanup", body: "{}").status == 404)
        #expect(try h.execute(.post, "/api/v1/agents/\(id)/cleanup", body: #"{"model_path": 3}"#).status == 400)
        let queued = try h.execute(.post, "/api/v1/agents/\(id)/cleanup", body: #"{"model_path": "/models/llama"}"#)
        #expect(queued.status == 202)
        #expect(queued.json?["queued"] == true)
        let commandID = try #require(queued.json?["command_id"]?.stringValue)

        // Many concurrent heartbeats: exactly one receives it.
        let received = Mutex<[JSON]>([])
        DispatchQueue.concurrentPerform(iterations: 16) { _ in
            // The router harness never throws; `try?` only satisfies the protocol's signature.
            let reply = try? h.execute(.post, "/api/v1/agents/\(id)/heartbeat", body: "{}")
            for command in reply?.json?["commands"]?.arrayValue ?? [] { received.withLock { $0.append(command) } }
        }
        let commands = received.withLock { $0 }
        #expect(commands.count == 1)
        #expect(commands.first?["command_id"]?.stringValue == commandID)
        #expect(commands.first?["type"]?.stringValue == "cleanup_storage")
        #expect(commands.first?["payload"] == ["model_path": "/models/llama"])
        #expect(try h.execute(.post, "/api/v1/agents/\(id)/heartbeat", body: "{}").json?["commands"] == .array([]))
        // No body at all queues a cleanup without a path.
        #expect(try h.execute(.post, "/api/v1/agents/\(id)/cleanup").status == 202)
        #expect(try h.execute(.post, "/api/v1/agents/\(id)/heartbeat").json?["commands"]?.arrayValue?.first?["payload"] == [:])
    }

    @Test func installTokenRegisterThenHeartbeatAndOtherAgentsTokenRejected() throws {
        let h = try APIHarness.agentFacing()
        let script = try h.execute(.get, "/api/v1/agent/install.sh?name=gpu-7&port=8095", admin: false)
        #expect(script.status == 200)
        let token = try #require(InstallScriptTests.assignment("KITT_TOKEN", in: script.text))
        #expect(token.count == 64)

        // The agent's own token: register, heartbeat, report.
        let registered = try h.execute(.post, "/api/v1/agents/register", body: #"{"name": "gpu-7", "hostname": "gpu-7.lab"}"#, token: token)
        #expect(registered.status == 201)
        let id = try #require(registered.json?["agent_id"]?.stringValue)
        #expect(try h.execute(.post, "/api/v1/agents/\(id)/heartbeat", body: "{}", token: token).status == 200)
        #expect(try h.execute(.post, "/api/v1/agents/gpu-7/heartbeat", body: "{}", token: token).status == 200)
        #expect(try h.execute(.post, "/api/v1/agents/\(id)/results", body: #"{"status": "running"}"#, token: token).status == 202)

        // Another agent's token → 403 on everything of this agent; the token is not admin either.
        let otherScript = try h.execute(.get, "/api/v1/agent/install.sh?name=gpu-8", admin: false)
        let other = try #require(InstallScriptTests.assignment("KITT_TOKEN", in: otherScript.text))
        #expect(try h.execute(.post, "/api/v1/agents/\(id)/heartbeat", body: "{}", token: other).status == 403)
        #expect(try h.execute(.post, "/api/v1/agents/\(id)/results", body: "{}", token: other).status == 403)
        #expect(try h.execute(.post, "/api/v1/agents/register", body: #"{"name": "gpu-7", "hostname": "x"}"#, token: other).status == 403)
        #expect(try h.execute(.post, "/api/v1/agents/ghost/heartbeat", body: "{}", token: other).status == 403)
        #expect(try h.execute(.get, "/api/v1/agents/\(id)/settings", token: token).status == 403)
        #expect(try h.execute(.delete, "/api/v1/results/ffffffffffffffff", token: token).status == 403)

        // Rotating a registered agent's token takes the admin token (else anyone could take it over).
        #expect(try h.execute(.get, "/api/v1/agent/install.sh?name=gpu-7", admin: false).status == 401)
        #expect(try h.execute(.get, "/api/v1/agent/install.sh?name=gpu-7", token: token).status == 403)
        #expect(try h.execute(.post, "/api/v1/agents/\(id)/heartbeat", body: "{}", token: token).status == 200)
        // With it: a new install.sh for gpu-7 invalidates the old token, keeps the id.
        let rotated = try h.execute(.get, "/api/v1/agent/install.sh?name=gpu-7")
        let newToken = try #require(InstallScriptTests.assignment("KITT_TOKEN", in: rotated.text))
        #expect(try h.execute(.post, "/api/v1/agents/\(id)/heartbeat", body: "{}", token: token).status == 403)
        #expect(try h.execute(.post, "/api/v1/agents/\(id)/heartbeat", body: "{}", token: newToken).json?["agent_id"]?.stringValue == id)
    }

    @Test func namelessInstallRegistersUnderTheHostName() throws {
        let h = try APIHarness.agentFacing()
        let script = try h.execute(.get, "/api/v1/agent/install.sh", admin: false)
        #expect(script.text.contains(#"AGENT_NAME="$(hostname)""#))
        let token = try #require(InstallScriptTests.assignment("KITT_TOKEN", in: script.text))
        let registered = try h.execute(.post, "/api/v1/agents/register", body: #"{"name": "node-42", "hostname": "node-42"}"#, token: token)
        #expect(registered.status == 201)
        let list = try h.execute(.get, "/api/v1/agents").json
        #expect(list?["items"]?.arrayValue?.compactMap { $0["name"]?.stringValue } == ["node-42"])
    }

    @Test func resultsReportingStoresLinksAndValidates() throws {
        let h = try APIHarness.agentFacing()
        let id = try h.registerAgent("gpu-1")
        // A quick test waiting for its result, with the command that carries it.
        let command = try h.store.agents.queueCommand(agentID: id, type: "run_test", testID: "qt-1", payload: [:])
        try h.store.database.write { c in
            try c.run("INSERT INTO quick_tests (id, agent_id, model_path, engine_name, command_id, created_at) VALUES ('qt-1', ?, '/m', 'vllm', ?, 'now')", [.text(id), .text(command)])
        }
        let doc = document(model: "m1", engine: "vllm")
        let reply = try h.execute(.post, "/api/v1/agents/\(id)/results", body: #"{"command_id": "\#(command)", "status": "completed", "container_id": "c1", "error": null, "result_data": \#(doc)}"#)
        #expect(reply.status == 202)
        #expect(reply.json?["accepted"] == true)
        let resultID = try #require(reply.json?["result_id"]?.stringValue)
        // Stored exactly as sent, served with the id.
        let served = try h.execute(.get, "/api/v1/results/\(resultID)")
        #expect(served.body == Array(#"{"id":"\#(resultID)","#.utf8) + Array(doc.utf8).dropFirst())
        let link = try h.store.database.read { try $0.queryOne("SELECT result_id FROM quick_tests WHERE id = 'qt-1'")?.string(0) }
        #expect(link == resultID)
        #expect(try h.store.quickTests.commands(agentID: id).first { $0.id == command }?.status == "done")

        // Linked by test_id as well.
        try h.store.database.write { c in
            try c.run("INSERT INTO quick_tests (id, agent_id, model_path, engine_name, created_at) VALUES ('qt-2', ?, '/m', 'vllm', 'now')", [.text(id)])
        }
        let second = try h.execute(.post, "/api/v1/agents/gpu-1/results", body: #"{"test_id": "qt-2", "result_data": \#(doc)}"#)
        let secondID = try #require(second.json?["result_id"]?.stringValue)
        #expect(try h.store.database.read { try $0.queryOne("SELECT result_id FROM quick_tests WHERE id = 'qt-2'")?.string(0) } == secondID)

        let status = try h.execute(.post, "/api/v1/agents/\(id)/results", body: #"{"command_id": "x", "status": "running"}"#)
        #expect(status.status == 202)
        #expect(status.json == ["accepted": true])
        for bad in [#"{"result_data": []}"#, #"{"result_data": {"engine": "e"}}"#, #"{"result_data": {"model": "m", "engine": 1}}"#,
                    #"{"result_data": {"model": "m"}}"#, #"{"command_id": 5}"#, "[]", "nope"] {
            #expect(try h.execute(.post, "/api/v1/agents/\(id)/results", body: bad).status == 400, "\(bad)")
        }
        #expect(try h.execute(.post, "/api/v1/agents/ghost/results", body: #"{"result_data": \#(doc)}"#).status == 404)
        #expect(try h.execute(.post, "/api/v1/agents/\(id)/results", body: "{}", admin: false).status == 401)
        #expect(try h.execute(.get, "/api/v1/results").json?["total"]?.intValue == 2)
    }

    @Test func concurrentReportsAreAllDurableAndGroupCommitted() throws {
        let h = try APIHarness.agentFacing()
        let id = try h.registerAgent("gpu-1")
        let before = h.store.database.committedBatchCount
        // A slow write holds the writer, so the first reports queue up behind it: with group
        // commit they share one batch; without it each would be a batch of its own.
        let writerBusy = DispatchSemaphore(value: 0)
        h.store.database.writeAsync({ _ in
            writerBusy.signal()
            usleep(300_000)
        }, completion: { _ in })
        writerBusy.wait()
        // 64 callers at once, each on its own serial queue (a thread each: concurrentPerform
        // may run every iteration on one thread, which would never overlap two reports).
        let statuses = Mutex<[Int]>([])
        let all = DispatchGroup()
        for i in 0..<64 {
            DispatchQueue(label: "report-\(i)").async(group: all) {
                // A throw (the router harness never throws) would record 0, which the check below rejects.
                let status = (try? h.execute(.post, "/api/v1/agents/\(id)/results", body: #"{"result_data": \#(document(day: i % 28 + 1))}"#))?.status
                statuses.withLock { $0.append(status ?? 0) }
            }
        }
        #expect(all.wait(timeout: .now() + 60) == .success)
        #expect(statuses.withLock { $0 }.count == 64)
        #expect(statuses.withLock { $0 }.allSatisfy { $0 == 202 })
        #expect(try h.execute(.get, "/api/v1/results").json?["total"]?.intValue == 64)
        let reportBatches = h.store.database.committedBatchCount - before - 1  // minus the slow write's
        #expect(reportBatches < 64, "64 reports took \(reportBatches) commits")
    }

    @Test func offlineRuleAndMonitor() throws {
        let h = try APIHarness.agentFacing { $0.agentOfflineAfterSeconds = 0.3 }
        let id = try h.registerAgent("gpu-1")
        #expect(try h.execute(.get, "/api/v1/agents/\(id)").json?["status"]?.stringValue == "online")
        let stream = AgentStatusRecorder()
        h.context.events.subscribe(stream, filter: id, lastEventID: nil)
        // GET computes it exactly, before any sweep (and the stored status is still online).
        #expect(try waitUntil { try h.execute(.get, "/api/v1/agents/\(id)").json?["status"]?.stringValue == "offline" })
        #expect(try h.store.agents.identity(idOrName: id)?.status == "online")
        #expect(!stream.text.contains(#""status":"offline""#))
        // The monitor's sweep stores it and publishes it: wait for both to be seen.
        let monitor = AgentOfflineMonitor(context: h.context, interval: 0.1)
        monitor.start()
        #expect(try waitUntil { try h.store.agents.identity(idOrName: id)?.status == "offline" })
        #expect(waitUntil { stream.text.contains(#""status":"offline""#) })
        monitor.stop()
        #expect(stream.text.contains("event: agent_status"))
        // A heartbeat brings it back (and publishes that too).
        #expect(try h.execute(.post, "/api/v1/agents/\(id)/heartbeat", body: "{}").status == 200)
        #expect(try h.execute(.get, "/api/v1/agents/\(id)").json?["status"]?.stringValue == "online")
        #expect(stream.text.contains(#""status":"online""#))
    }
}

final class AgentStatusRecorder: ResponseStream {
    private let lock = Mutex<[UInt8]>([])
    var text: String { String(decoding: lock.withLock { $0 }, as: UTF8.self) }
    func send(_ bytes: [UInt8]) -> Bool {
        lock.withLock { $0.append(contentsOf: bytes) }
        return true
    }
    func close() {}
    func onClose(_ handler: @escaping @Sendable () -> Void) {}
}
