import KittPostgres
import KittStore
import KittStorePostgres
import KittTestSupport
import Testing

@Suite(.enabled(if: PostgresServer.isAvailable, "\(PostgresServer.unavailableReason ?? "")"))
struct LeaseTests {
    @Test func oneInstanceHoldsEachNameAndAnotherTakesOverWhenItDies() throws {
        let info = try PostgresServer.freshDatabase()
        let a = PostgresLeases(info)
        let b = PostgresLeases(info)
        defer { a.close(); b.close() }
        #expect(try a.tryAcquire("campaign-1"))
        #expect(try a.tryAcquire("campaign-1"))
        #expect(try !b.tryAcquire("campaign-1"))
        #expect(try b.tryAcquire("campaign-2"))
        #expect(a.verifiedHeld() == ["campaign-1"])

        // Released: the other instance may take it at once.
        try a.release("campaign-1")
        #expect(try b.tryAcquire("campaign-1"))
        #expect(try !a.tryAcquire("campaign-1"))
        try b.release("campaign-1")
        #expect(try a.tryAcquire("campaign-1"))

        // Instance A dies (its session ends): B takes campaign-1 over, and A, if it comes
        // back, learns it holds nothing.
        let admin = try PostgresConnection(info)
        #expect(try admin.queryOne("SELECT pg_terminate_backend($1)", [.integer(Int64(a.backendPID))])?.bool(0) == true)
        var takenOver = false
        for _ in 0..<50 where !takenOver {
            takenOver = try b.tryAcquire("campaign-1")
            if !takenOver { try admin.query("SELECT pg_sleep(0.05)") }
        }
        #expect(takenOver)
        #expect(a.verifiedHeld().isEmpty)
        #expect(try !a.tryAcquire("campaign-1"))
        #expect(b.verifiedHeld() == ["campaign-1", "campaign-2"])
    }
}
