import KittStore
import KittTestSupport
import Testing

/// A request can carry NUL (`%00` in a path or query, `\u0000` in JSON): a lookup by such an
/// id or name finds nothing, as for any unknown one. The results repository does this on both
/// backends (`ResultsRepositoryTests`); the others on PostgreSQL throw instead, because
/// libpq refuses text parameters holding NUL. That error is the client's (`ClientFault`): the
/// API answers 400 naming the NUL where SQLite answers 404, and nothing changes
/// (`ScaleOutTests.textWithNULIsA400OnPostgreSQL_andChangesNothing`).
@Suite struct TextWithNULTests {
    @Test(arguments: Backend.available)
    func lookupsByTextWithNULFindNothing(backend: Backend) throws {
        let b = try backend.open()
        let nul = "x\u{0}"
        // Each lookup is its own known issue on PostgreSQL, so none hides another.
        let onPostgres = backend == .postgres
        func check(_ what: String, _ body: () throws -> Void) throws {
            try withKnownIssue("PostgreSQL: \(what) with NUL throws (libpq refuses the parameter)") {
                try body()
            } when: {
                onPostgres
            }
        }
        try check("agents.identity") { () throws in #expect(try b.agents.identity(idOrName: nul) == nil) }
        try check("agents.get") { () throws in #expect(try b.agents.get(idOrName: nul, offlineCutoff: "") == nil) }
        try check("agents.delete") { () throws in #expect(try !b.agents.delete(idOrName: nul)) }
        try check("agents.heartbeat") { () throws in
            #expect(throws: AgentStoreError.notFound) {
                try waitFor { b.agents.heartbeat(idOrName: nul, AgentHeartbeat(), offlineCutoff: "", completion: $0) }
            }
        }
        try check("administration.identity") { () throws in #expect(try b.administration.identity(tokenHash: nul) == nil) }
        try check("administration.settings") { () throws in #expect(try b.administration.settings(idOrName: nul) == nil) }
        try check("quickTests.get") { () throws in #expect(try b.quickTests.get(id: nul) == nil) }
        try check("quickTests.logs") { () throws in #expect(try b.quickTests.logs(testID: nul) == nil) }
        try check("quickTests.list") { () throws in #expect(try b.quickTests.list(status: nil, agentName: nul, limit: 1, offset: 0).total == 0) }
        try check("quickTests.transition") { () throws in #expect(try b.quickTests.transition(id: nul, to: .failed, error: nil, agentID: nil) == nil) }
        try check("campaigns.get") { () throws in #expect(try b.campaigns.get(id: nul) == nil) }
        try check("campaigns.delete") { () throws in #expect(try b.campaigns.delete(id: nul) == nil) }
        try check("campaigns.cancel") { () throws in
            guard case .notFound = try b.campaigns.cancel(id: nul, line: "x") else {
                Issue.record("not notFound")
                return
            }
        }
        try check("profiles.get") { () throws in #expect(try b.profiles.get(id: nul) == nil) }
        try check("profiles.list") { () throws in #expect(try b.profiles.list(engine: nul).isEmpty) }
        try check("profiles.delete") { () throws in #expect(try !b.profiles.delete(id: nul)) }
    }
}
