// The SQLite repositories already have these methods: conforming needs no code.
extension ResultsRepository: ResultsStoring {}
extension AgentRepository: AgentStoring {}
extension Store: WebSessionStoring {}
extension EngineProfileRepository: EngineProfileStoring {}
extension QuickTestRepository: QuickTestStoring {}
extension CampaignRepository: CampaignStoring {}
extension AgentRepository: AgentAdministering {}
