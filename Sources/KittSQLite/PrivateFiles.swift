#if canImport(Glibc)
import Glibc
#endif

/// The database and its `-wal`/`-shm` files are readable by their owner only (SPEC §7.2):
/// results, agents and token hashes are nobody else's business on a shared machine.
enum PrivateFiles {
    static let mode: mode_t = 0o600

    /// Creates the database file 0600 when it does not exist (SQLite then gives its `-wal` and
    /// `-shm` files the database's mode) and tightens the three files when they exist looser.
    /// Only before this process opens the database: the close() here would drop the locks
    /// SQLite holds on it (`tighten(database:)` is for later).
    static func prepareDatabase(at path: String) {
        guard isFilePath(path) else { return }
        let fd = open(path, O_WRONLY | O_CREAT | O_CLOEXEC, mode)
        if fd >= 0 { close(fd) }
        tighten(database: path)
    }

    /// Tightens the database and its `-wal` and `-shm` files when they exist looser, without
    /// opening any of them.
    static func tighten(database path: String) {
        guard isFilePath(path) else { return }
        for file in [path, path + "-wal", path + "-shm"] { tighten(file) }
    }

    /// A plain file path (not in-memory, not a `file:` URI).
    private static func isFilePath(_ path: String) -> Bool {
        !path.isEmpty && path != ":memory:" && !path.hasPrefix("file:")
    }

    /// chmod 0600 when group or others have any access; a missing file is left alone.
    static func tighten(_ path: String) {
        var info = stat()
        guard stat(path, &info) == 0, info.st_mode & 0o077 != 0 else { return }
        _ = chmod(path, mode)
    }
}
