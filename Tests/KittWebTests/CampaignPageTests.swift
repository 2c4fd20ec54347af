import KittAPI
import KittHTTP
import KittJSON
import KittStore
import KittTestSupport
import Testing

@testable import KittWeb

/// The campaign detail page's run list pages through every run, not just the newest ones.
@Suite struct CampaignPageTests {
    @Test func runListPagesThroughEveryRun() throws {
        let web = try WebHarness()
        let registered = web.api.admin(.post, "/api/v1/agents/register", json: ["name": "gpu-r", "hostname": "r.local"])
        let agent = try #require(registered.json?["agent_id"]?.stringValue)
        let campaign = try web.api.store.campaigns.create(name: "big", description: "", agentID: agent, config: "{}")
        let runs = CampaignPages.runsPerPage * 2 + 3
        for i in 0..<runs {
            var new = NewQuickTest(agentID: agent, agentName: "gpu-r", modelPath: "org/run-\(i)-x", engineName: "vllm")
            new.campaignID = campaign.id
            _ = try web.api.store.quickTests.create(new)
        }
        // A run of another campaign never shows here.
        var other = NewQuickTest(agentID: agent, agentName: "gpu-r", modelPath: "org/elsewhere", engineName: "vllm")
        other.campaignID = try web.api.store.campaigns.create(name: "o", description: "", agentID: agent, config: "{}").id
        _ = try web.api.store.quickTests.create(other)

        var seen = Set<Int>()
        for page in 1...3 {
            let html = web.call(.get, "/campaigns/\(campaign.id)?page=\(page)").text
            #expect(html.contains("Page \(page) of 3 · \(runs) in all"), "page \(page)")
            #expect(!html.contains("org/elsewhere"))
            for i in 0..<runs where html.contains("org/run-\(i)-x") { seen.insert(i) }
            #expect(html.contains("?page=\(page + 1)") == (page < 3))
        }
        #expect(seen.count == runs)
    }
}
