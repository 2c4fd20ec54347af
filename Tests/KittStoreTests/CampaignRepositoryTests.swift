import KittStore
import KittTestSupport
import Testing

/// Through the repository protocols, on every available backend (SQLite, PostgreSQL).
@Suite struct CampaignRepositoryTests {
    @Test(arguments: Backend.available)
    func runBookkeepingIsConditional(backend: Backend) throws {
        let f = try ControlStoreFixture(backend)
        let repo = f.campaigns
        let campaign = try repo.create(name: "c", description: "", agentID: f.agentID, config: "{}")
        #expect(campaign.status == "draft")
        // Nothing can be queued before the campaign runs.
        #expect(try repo.queueRun(campaignID: campaign.id, test: f.newTest(), line: "x") == nil)
        #expect(try repo.markQueued(id: campaign.id)?.changed == true)
        #expect(try repo.markQueued(id: campaign.id)?.changed == false)
        let running = try #require(try repo.markRunning(id: campaign.id, totalRuns: 2, line: "start"))
        #expect(running.status == "running" && running.totalRuns == 2 && running.startedAt != nil)

        let test = try #require(try repo.queueRun(campaignID: campaign.id, test: f.newTest(), line: "[1/2] Queuing"))
        #expect(test.campaignID == campaign.id)
        #expect(try repo.get(id: campaign.id)?.currentTestID == test.id)
        // One in flight at a time.
        #expect(try repo.queueRun(campaignID: campaign.id, test: f.newTest(), line: "x") == nil)

        let after = try #require(try repo.finishRun(campaignID: campaign.id, testID: test.id, succeeded: true, line: "[1/2] completed"))
        #expect(after.nextIndex == 1 && after.succeeded == 1 && after.currentTestID == nil)
        // Counting the same test twice is a no-op.
        #expect(try repo.finishRun(campaignID: campaign.id, testID: test.id, succeeded: true, line: "again") == nil)

        let second = try #require(try repo.queueRun(campaignID: campaign.id, test: f.newTest(), line: "[2/2] Queuing"))
        guard case .cancelled(let stop) = try repo.cancel(id: campaign.id, line: "Campaign cancelled") else {
            Issue.record("cancel failed")
            return
        }
        #expect(stop.campaign.status == "cancelled" && stop.cancelledTest?.id == second.id)
        #expect(try f.quickTests.get(id: second.id)?.status == "cancelled")
        #expect(try repo.queueRun(campaignID: campaign.id, test: f.newTest(), line: "x") == nil)
        #expect(try repo.finish(id: campaign.id, status: "completed", error: nil, line: "x") == nil)
        guard case .notActive("cancelled") = try repo.cancel(id: campaign.id, line: "x") else {
            Issue.record("second cancel should be refused")
            return
        }
        #expect(try repo.logs(campaignID: campaign.id)?.map(\.line) == [
            "start", "[1/2] Queuing", "[1/2] completed", "[2/2] Queuing", "Campaign cancelled",
        ])
        #expect(try repo.active().isEmpty)
    }

    @Test(arguments: Backend.available)
    func listConfigAndDelete(backend: Backend) throws {
        let f = try ControlStoreFixture(backend)
        let repo = f.campaigns
        let a = try repo.create(name: "a", description: "d", agentID: nil, config: #"{"models":[]}"#)
        let b = try repo.create(name: "b", description: "", agentID: f.agentID, config: "{}")
        #expect(try repo.list(status: nil, limit: 10, offset: 0).items.map(\.id) == [b.id, a.id])
        #expect(try repo.list(status: "draft", limit: 1, offset: 1).items.map(\.id) == [a.id])
        #expect(try repo.updateConfig(id: a.id, config: #"{"models":[1]}"#) == .updated)
        #expect(try repo.get(id: a.id)?.config == #"{"models":[1]}"#)
        _ = try repo.markQueued(id: b.id)
        #expect(try repo.updateConfig(id: b.id, config: "{}") == .notDraft("queued"))
        #expect(try repo.updateConfig(id: "ffffffffffffffff", config: "{}") == .notFound)
        #expect(try repo.active().map(\.id) == [b.id])
        #expect(try repo.delete(id: a.id)?.campaign.id == a.id)
        #expect(try repo.delete(id: a.id) == nil)
        #expect(try repo.logs(campaignID: a.id) == nil)
    }
}
