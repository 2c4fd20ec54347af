#if canImport(FoundationEssentials)
import FoundationEssentials
#else
import Foundation
#endif
import KittSQLite
import KittStore
import Testing

/// A Store checkpoints as the policy it was opened with says (`kitt import` opens its store
/// with `CheckpointPolicy.bulkLoad`, whose WAL starts over less often).
@Suite struct StoreCheckpointPolicyTests {
    /// Imports 30 batches of 10 results, as `kitt import` does; returns the WAL file's
    /// largest size in frames and how many checkpoints ran. No background checkpoint runs
    /// before the restart bound (`maxFrames` = `restartFrames`): one that catches up lets
    /// SQLite start the WAL over by itself at the next commit, whatever the bound says, and
    /// the WAL's size would then depend on the checkpointer thread's timing.
    static func load(restartFrames: Int) throws -> (walFrames: Int, checkpoints: Int) {
        let temp = try TempStore(
            synchronous: .normal,
            checkpointPolicy: CheckpointPolicy(
                maxFrames: restartFrames, restartFrames: restartFrames, idleDelayMilliseconds: 3_600_000))
        let wal = temp.directory.appendingPathComponent("kitt.db-wal").path
        var largest = 0
        for batch in 0..<30 {
            let documents = try (0..<10).map { n in
                try ResultDocument(bytes: resultJSON(timestamp: "2026-01-01T00:\(10 + batch):\(10 + n)Z", tps: Double(n)))
            }
            #expect(try temp.store.results.insertNew(documents).allSatisfy { $0 != nil })
            let size = try FileManager.default.attributesOfItem(atPath: wal)[.size] as? Int ?? 0
            largest = max(largest, (size - 32) / (Database.newFilePageSize + 24))
        }
        #expect(try temp.store.results.list(ResultFilter(), limit: 1, offset: 0).total == 300)
        return (largest, temp.store.database.checkpointCount)
    }

    @Test func theWALStartsOverAtThePolicysBound() throws {
        let tight = try Self.load(restartFrames: 64)
        let loose = try Self.load(restartFrames: 1 << 20)
        // The writer started the WAL over right after the commit that reached 64 frames (a
        // batch writes fewer than 64): it never held much more.
        #expect(tight.walFrames < 128)
        #expect(tight.checkpoints >= 2)
        // Started over never (and never checkpointed): the file only grew.
        #expect(loose.checkpoints == 0)
        #expect(loose.walFrames > 2 * tight.walFrames)
    }

    @Test func bulkLoadsStartTheWALOverLessOften() {
        #expect(CheckpointPolicy.bulkLoad.restartFrames == 4 * CheckpointPolicy().restartFrames)
        #expect(CheckpointPolicy.bulkLoad.maxFrames == CheckpointPolicy().maxFrames)
    }
}
