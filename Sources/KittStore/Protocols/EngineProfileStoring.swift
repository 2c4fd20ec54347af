/// Engine profiles on either backend (issue 15).
public protocol EngineProfileStoring: Sendable {
    /// By name (bytewise); only those of `engine` when given.
    func list(engine: String?) throws -> [EngineProfile]
    func get(id: String) throws -> EngineProfile?
    /// Throws `EngineProfileError.missing` without name or engine, `.nameTaken` for a used name.
    func create(_ fields: EngineProfileFields) throws -> EngineProfile
    /// Changes the given fields; nil when there is no such profile.
    func update(id: String, _ fields: EngineProfileFields) throws -> EngineProfile?
    func delete(id: String) throws -> Bool
}
