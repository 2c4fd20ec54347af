import KittHTTP
import KittJSON

/// `/`: agents with live status, running campaigns with progress, the latest results.
enum DashboardPage {
    static let live = ["agent_status", "status", "campaign_created"]

    static func register(in router: inout Router, _ ui: WebUI) {
        router.get("/") { request in
            // Scripts asking for JSON get the API's own answer for `/`; browsers get the dashboard.
            if WebUI.prefersJSON(request) { return ui.bridge.api.respond(to: request) }
            return ui.page(
                request, title: "Dashboard", section: .dashboard, live: live,
                reads: [
                    "/api/v1/agents?per_page=100", "/api/v1/campaigns?status=running&per_page=20",
                    "/api/v1/campaigns?status=queued&per_page=20", "/api/v1/results?per_page=10",
                ]
            ) { _, answers in
                el("h1") { "Dashboard" }
                + el("section", .id("dash-agents"), Attribute("data-live-region", ""), Attribute("aria-labelledby", "h-agents")) {
                    el("h2", .id("h-agents")) { "Agents" }
                    AgentPages.cards(answers[0])
                }
                + el("section", .id("dash-campaigns"), Attribute("data-live-region", ""), Attribute("aria-labelledby", "h-camp")) {
                    el("h2", .id("h-camp")) { "Running campaigns" }
                    CampaignPages.progressList(running: answers[1], queued: answers[2])
                }
                + el("section", .id("dash-results"), Attribute("data-live-region", ""), Attribute("aria-labelledby", "h-res")) {
                    el("h2", .id("h-res")) { "Latest results" }
                    ResultPages.table(answers[3], selectable: false)
                }
            }
        }
    }
}
