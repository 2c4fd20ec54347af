import KittBase

/// Record ids: 16 lowercase hex characters (64 bits) from the system CSPRNG (getrandom).
public enum StoreID {
    public static func make() -> String { SecureRandom.hex(bytes: 8) }

    public static func isValid(_ text: String) -> Bool {
        text.utf8.count == 16 && text.utf8.allSatisfy { (0x30...0x39).contains($0) || (0x61...0x66).contains($0) }
    }

    /// Ids for the results of one bulk batch (`ResultsRepository.insertNew`, `insertAll`):
    /// still 16 hex characters from the CSPRNG, but the batch's ids share their first 4,
    /// drawn once for the batch, and each draws its other 48 bits.
    ///
    /// Why: an index on a random key dirties about one page per new key once the index has
    /// more pages than a batch has keys, and every dirtied page is written to the WAL and
    /// again to the database. At a million results an import batch of 1,000 rewrote ~900
    /// pages of the `runs.id` index, a third of all it wrote; sharing a prefix puts the
    /// batch's ids in one corner of the index, a few pages. 48 random bits per id keep ids
    /// unguessable and a collision negligible (~2e-9 for a batch of 1,000; it would fail the
    /// batch, the id being UNIQUE). Agents' reports, stored one by one, use `Rotating`.
    public struct Batch {
        private let prefix: [UInt8]

        public init() { prefix = Array(SecureRandom.hex(bytes: 2).utf8) }

        public func make() -> String {
            String(decoding: prefix + SecureRandom.hex(bytes: 6).utf8, as: UTF8.self)
        }
    }

    /// Ids for results stored one at a time on one connection (agents' reports, which the
    /// writer's group commit stores a few per transaction): `Batch` ids whose prefix is
    /// drawn again after every `idsPerPrefix` ids, so the reports of one transaction land on
    /// a page or two of the `runs.id` index rather than a page each (a POST flood at 16
    /// connections wrote ~50 pages per transaction of 8 reports, 8 of them for the ids).
    /// Kept per connection (`Connection.state`); the writer is its only user.
    public final class Rotating {
        public static let idsPerPrefix = 32
        private var batch = Batch()
        private var used = 0

        public init() {}

        public func make() -> String {
            if used == Self.idsPerPrefix {
                batch = Batch()
                used = 0
            }
            used += 1
            return batch.make()
        }
    }
}
