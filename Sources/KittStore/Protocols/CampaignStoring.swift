/// Web campaigns on either backend (issue 15).
public protocol CampaignStoring: Sendable {
    func create(name: String, description: String, agentID: String?, config: String) throws -> Campaign
    func get(id: String) throws -> Campaign?
    func list(status: CampaignStatus?, limit: Int, offset: Int) throws -> (items: [Campaign], total: Int)
    /// Campaigns a runner must drive (queued or running), oldest first.
    func active() throws -> [Campaign]
    func delete(id: String) throws -> CampaignStop?
    func updateConfig(id: String, config: String, agentID: String?) throws -> CampaignRepository.ConfigUpdate
    func markQueued(id: String) throws -> (campaign: Campaign, changed: Bool)?
    func markRunning(id: String, totalRuns: Int, line: String?) throws -> Campaign?
    func queueRun(campaignID: String, test: NewQuickTest, line: String) throws -> QuickTest?
    func finishRun(campaignID: String, testID: String, succeeded: Bool, line: String) throws -> Campaign?
    func skipRun(campaignID: String, line: String) throws -> Campaign?
    func finish(id: String, status: CampaignStatus, error: String?, line: String) throws -> Campaign?
    func cancel(id: String, line: String) throws -> CampaignRepository.CancelOutcome
    func appendLog(campaignID: String, line: String) throws
    func logs(campaignID: String) throws -> [LogLine]?
}
