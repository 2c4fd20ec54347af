@testable import KittAPI
import Testing

/// The results cache is bounded by bytes (SPEC §7.2) and drops answers of older result
/// changes before recently used current ones.
@Suite struct ResultsCacheTests {
    @Test func staysWithinItsByteBudgetEvictingStaleThenLeastRecentlyUsed() {
        let cache = ResultsCache(budget: 1000)
        cache.store("old", "x", bytes: 200, changes: 1, dataVersion: 1)
        cache.store("a", "a", bytes: 200, changes: 2, dataVersion: 2)
        cache.store("b", "b", bytes: 200, changes: 2, dataVersion: 2)
        cache.store("c", "c", bytes: 200, changes: 2, dataVersion: 2)
        _ = cache.entry("a")  // used: b is now the least recently used current entry
        cache.store("d", "d", bytes: 200, changes: 2, dataVersion: 2)
        #expect(cache.byteCount == 1000)
        cache.store("e", "e", bytes: 200, changes: 2, dataVersion: 2)
        #expect(cache.byteCount == 1000)
        #expect(cache.entry("old") == nil, "the stale entry goes first")
        cache.store("f", "f", bytes: 200, changes: 2, dataVersion: 2)
        #expect(cache.byteCount == 1000)
        #expect(cache.entry("b") == nil, "then the least recently used")
        #expect(cache.entry("a")?.value as? String == "a")
        #expect(cache.entry("f")?.value as? String == "f")
        // One answer larger than a quarter of the budget is not kept at all.
        cache.store("huge", "h", bytes: 400, changes: 2, dataVersion: 2)
        #expect(cache.entry("huge") == nil)
        #expect(cache.byteCount == 1000)
    }
}
