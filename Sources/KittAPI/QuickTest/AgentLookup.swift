import KittHTTP
import KittStore

/// Wherever a request names an agent (path or body), an id or a name will do; an id always
/// wins over a name (SPEC §7.1). Names can never look like ids: register refuses 16-hex names.
enum AgentLookup {
    /// The agent `idOrName` names; 404 when there is none. Reads the store: call it off the event loop.
    static func resolve(_ idOrName: String, _ store: any DataStore) throws -> AgentSummary {
        guard let agent = try store.quickTests.agent(idOrName: idOrName) else {
            throw HTTPError.notFound("agent '\(idOrName)' not found")
        }
        return agent
    }
}
