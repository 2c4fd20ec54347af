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
        // Over the budget: down to three quarters, the stale entry first, then the least
        // recently used (b), then c.
        cache.store("e", "e", bytes: 200, changes: 2, dataVersion: 2)
        #expect(cache.byteCount == 600)
        #expect(cache.entry("old") == nil, "the stale entry goes first")
        #expect(cache.entry("b") == nil, "then the least recently used")
        #expect(cache.entry("c") == nil)
        #expect(cache.entry("a")?.value as? String == "a")
        #expect(cache.entry("e")?.value as? String == "e")
        cache.store("f", "f", bytes: 200, changes: 2, dataVersion: 2)
        #expect(cache.byteCount == 800)
        #expect(cache.entry("f")?.value as? String == "f")
        // One answer larger than a quarter of the budget is not kept at all.
        cache.store("huge", "h", bytes: 400, changes: 2, dataVersion: 2)
        #expect(cache.entry("huge") == nil)
        #expect(cache.byteCount == 800)
    }

    /// Evicting sorts every entry: a full cache under a stream of new pages (a dashboard
    /// paging deep) must not sort at every store.
    @Test func evictsAQuarterAtATimeNotAtEveryStore() {
        let cache = ResultsCache(budget: 100_000)
        for page in 0..<10_000 { cache.store("page \(page)", page, bytes: 100, changes: 1, dataVersion: 1) }
        #expect(cache.byteCount <= 100_000)
        // 1,000 entries fit; each eviction frees 250 of them: (10,000 - 1,000) / 250 = 36.
        #expect(cache.evictionCount <= 40)
        #expect(cache.entry("page 9999")?.value as? Int == 9999)
    }
}
