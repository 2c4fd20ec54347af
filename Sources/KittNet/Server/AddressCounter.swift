import Synchronization

/// How many of something (connections, event streams) each client address holds now.
///
/// Touched only when a connection is accepted or closed and when a stream starts or ends —
/// never per request — so one mutex over a small dictionary is cheap and keeps the counts
/// exact across event loops. An address whose count drops to zero is forgotten, so the table
/// holds only addresses with something open.
final class AddressCounter: Sendable {
    private let counts = Mutex<[String: Int]>([:])

    /// Counts one more for `address` when it holds fewer than `limit`; false (and nothing
    /// counted) when it is at its limit.
    func acquire(_ address: String, limit: Int) -> Bool {
        counts.withLock { counts in
            let held = counts[address, default: 0]
            guard held < limit else { return false }
            counts[address] = held + 1
            return true
        }
    }

    /// Gives back one acquired for `address`.
    func release(_ address: String) {
        counts.withLock { counts in
            guard let held = counts[address] else { return }
            counts[address] = held > 1 ? held - 1 : nil
        }
    }
}
