@testable import KittStorePostgres
import Testing

/// The store copy's batch size: bounded by bytes, by rows and by what one INSERT may bind.
@Suite struct CopyBatchTests {
    @Test func startsSmallGrowsForSmallRowsAndShrinksForLargeOnes() {
        var batch = CopyBatch(columns: 5)
        #expect(batch.rows == CopyBatch.firstRows)
        batch.observe([40, 60, 50])
        #expect(batch.rows == CopyBatch.maxRows)
        // One 1 MB document: four of those fit in the byte budget, whatever follows.
        batch.observe([1 << 20, 100])
        #expect(batch.rows == 4)
        batch.observe([100])
        #expect(batch.rows == 4)
        // A row larger than the whole budget still moves, one at a time.
        batch.observe([64 << 20])
        #expect(batch.rows == 1)
    }

    @Test func neverBindsMoreValuesThanOneStatementTakes() {
        var wide = CopyBatch(columns: 200)
        wide.observe([10])
        #expect(wide.rows * 200 <= CopyBatch.maxBoundValues)
        #expect(CopyBatch(columns: 200).rows * 200 <= CopyBatch.maxBoundValues)
    }
}
