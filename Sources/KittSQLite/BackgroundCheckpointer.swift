internal import CSQLite
import Dispatch

/// Copies WAL frames into the database file on its own connection and thread, so the
/// writer goes on committing meanwhile (SQLite lets one checkpointer run beside the writer).
/// A checkpoint was a fifth of the writer's time on a long import: the pages are read back
/// from the WAL, written to the database file and synced.
///
/// Only a checkpoint the writer runs itself, between its transactions, can copy every frame
/// and so let SQLite start the WAL over from its beginning; `Database` does that when the
/// WAL grows past its hard bound (`CheckpointPolicy.restartFrames`).
final class BackgroundCheckpointer: @unchecked Sendable {
    // @unchecked: `connection` is only touched from blocks on `queue` (serial).
    private let connection: Connection
    private let queue = DispatchQueue(label: "kitt.sqlite.checkpointer")
    private var isOpen = true

    init(path: String) throws {
        connection = try Connection(path: path, flags: SQLITE_OPEN_READWRITE | SQLITE_OPEN_NOMUTEX)
        // In WAL mode a checkpoint syncs the WAL before it copies and the database file
        // after, under NORMAL as under FULL.
        try connection.execute("PRAGMA busy_timeout = 5000; PRAGMA synchronous = NORMAL")
    }

    /// Runs a PASSIVE checkpoint after those already asked for; `done` gets the frames in
    /// the WAL and how many are in the database file (nil when it failed: the frames stay in
    /// the WAL, just as durable, for the next one).
    func start(_ done: @escaping @Sendable ((log: Int, checkpointed: Int)?) -> Void) {
        queue.async { [self] in
            done(isOpen ? try? connection.checkpoint() : nil)
        }
    }

    /// Returns once every checkpoint asked for so far has finished.
    func waitUntilIdle() {
        queue.sync {}
    }

    /// Waits for a running checkpoint, then closes the connection. Before the writer closes:
    /// the last connection to close is the one that removes the WAL.
    func close() {
        queue.sync {
            guard isOpen else { return }
            isOpen = false
            connection.close()
        }
    }
}
