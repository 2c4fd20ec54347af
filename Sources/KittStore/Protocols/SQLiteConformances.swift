// The SQLite repositories already have these methods: conforming needs no code.
extension ResultsRepository: ResultsStoring {}
extension AgentRepository: AgentStoring {}
extension Store: WebSessionStoring {}
extension EngineProfileRepository: EngineProfileStoring {}
extension QuickTestRepository: QuickTestStoring {}
extension CampaignRepository: CampaignStoring {}
extension AgentRepository: AgentAdministering {}

extension Store: DataStore {
    public var backendName: String { "sqlite" }
    public func ping() throws { _ = try database.read { try $0.queryOne("SELECT 1") } }
    public func syncToDisk() throws { try database.syncToDisk() }
}

extension ResultsSnapshot: ResultsSnapshotReading {}

extension ResultsRepository: ResultsReading {
    public func readSnapshot<T: Sendable>(
        _ body: @escaping @Sendable (any ResultsSnapshotReading) throws -> T,
        completion: @escaping @Sendable (Result<T, any Error>) -> Void
    ) {
        readAsync({ snapshot in try body(snapshot) }, completion: completion)
    }
}
