import KittHTTP
import KittTestSupport
import Testing

/// `GET /api/v1/ready` asks the store (a load balancer's health check), unlike the static
/// `/api/v1/health`: a closed store makes it 503 while liveness stays 200.
@Suite struct ReadinessTests {
    @Test func readyNamesTheStore_and503sOnceTheStoreIsGone() throws {
        let harness = try APIHarness()
        let ready = harness.call(.get, "/api/v1/ready")
        #expect(ready.status == 200)
        #expect(ready.json?["status"]?.stringValue == "ready")
        #expect(ready.json?["store"]?.stringValue == "sqlite")

        harness.store.close()
        let gone = harness.call(.get, "/api/v1/ready")
        #expect(gone.status == 503, "\(gone)")
        // No database detail to an unauthenticated caller.
        #expect(gone.json?["error"]?.stringValue == "the store does not answer")
        #expect(harness.call(.get, "/api/v1/health").status == 200)
    }
}
