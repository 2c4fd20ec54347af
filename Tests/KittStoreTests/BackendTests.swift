import KittStore
import KittTestSupport
import Testing

/// The backends the repository suites run on (`Backend.available`).
@Suite struct BackendTests {
    /// Without the PostgreSQL server binaries this is skipped, and its reason says why the
    /// repository suites ran on SQLite alone.
    @Test(.enabled(if: PostgresServer.isAvailable, "\(PostgresServer.unavailableReason ?? "")"))
    func postgresIsAmongTheBackends() {
        #expect(Backend.available == [.sqlite, .postgres])
    }

    /// Every test gets a store of its own: nothing one writes is seen by the next.
    @Test(arguments: Backend.available)
    func eachOpenIsAnEmptyStoreOfItsOwn(backend: Backend) throws {
        let first = try backend.open()
        _ = try first.results.insert(try ResultDocument(bytes: resultJSON()))
        #expect(first.backend == backend)
        #expect(try first.results.list(ResultFilter(), limit: 10, offset: 0).total == 1)
        let second = try backend.open()
        #expect(try second.results.list(ResultFilter(), limit: 10, offset: 0).total == 0)
        #expect(try second.row("SELECT COUNT(*) FROM runs")?.int(0) == 0)
    }
}
