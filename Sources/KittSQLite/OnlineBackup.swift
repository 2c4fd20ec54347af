#if canImport(Glibc)
import Glibc
#endif
import KittBase
internal import CSQLite

/// Consistent copies of a live database with SQLite's online backup API, and their checks.
///
/// The copy is made from one read snapshot (an open read transaction on the source), page
/// batch by page batch with a short pause between batches: in WAL mode the server's writer
/// and readers never wait for it, and writes committed meanwhile do not restart it. The copy is
/// written beside the destination, switched to a single-file journal mode, checked, synced,
/// then renamed into place: a reader of `destination` never sees half a copy.
public enum OnlineBackup {
    public struct Report: Sendable {
        public let pages: Int
        public let steps: Int
    }

    public static func copy(
        from source: String, to destination: String, pagesPerStep: Int32 = 1024, pauseMicroseconds: UInt32 = 1000,
        sourceReadOnly: Bool = false
    ) throws(SQLiteError) -> Report {
        guard access(destination, F_OK) != 0 else {
            throw SQLiteError(code: SQLITE_CANTOPEN, message: "\(destination) already exists; not overwriting it")
        }
        let partial = destination + ".partial"
        unlink(partial)
        // Not READONLY for a live WAL database: a read-only handle cannot use the -shm index.
        let sourceFlags = (sourceReadOnly ? SQLITE_OPEN_READONLY : SQLITE_OPEN_READWRITE) | SQLITE_OPEN_NOMUTEX
        let from = try Connection(path: source, flags: sourceFlags)
        defer { from.close() }
        try from.execute("PRAGMA busy_timeout = 5000")
        // Pin one snapshot for the whole copy.
        try from.execute("BEGIN")
        _ = try from.queryOne("SELECT count(*) FROM sqlite_master")
        defer { try? from.execute("COMMIT") }

        let report: Report
        do throws(SQLiteError) {
            let to = try Connection(path: partial, flags: SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE | SQLITE_OPEN_NOMUTEX)
            defer { to.close() }
            report = try step(from: from, to: to, pagesPerStep: pagesPerStep, pauseMicroseconds: pauseMicroseconds)
            _ = try to.queryOne("PRAGMA journal_mode = DELETE")
            let verdict = try integrity(of: to)
            guard verdict == "ok" else {
                throw SQLiteError(code: SQLITE_CORRUPT, message: "the copy failed its integrity check: \(verdict)")
            }
        } catch {
            unlink(partial)
            throw error
        }
        chmod(partial, 0o600)
        do {
            try Files.syncFile(partial)
        } catch {
            unlink(partial)
            throw SQLiteError(code: SQLITE_IOERR, message: "cannot sync the copy \(partial): \(error)")
        }
        guard rename(partial, destination) == 0 else {
            let reason = String(cString: strerror(errno))
            unlink(partial)
            throw SQLiteError(code: SQLITE_IOERR, message: "cannot move the copy to \(destination): \(reason)")
        }
        do {
            try Files.syncDirectory(containing: destination)
        } catch {
            throw SQLiteError(code: SQLITE_IOERR, message: "the copy is in place but not durable: \(error)")
        }
        return report
    }

    private static func step(from: Connection, to: Connection, pagesPerStep: Int32, pauseMicroseconds: UInt32)
        throws(SQLiteError) -> Report
    {
        let destinationDB = try to.db()
        guard let backup = sqlite3_backup_init(destinationDB, "main", try from.db(), "main") else {
            throw SQLiteError(db: destinationDB, resultCode: sqlite3_errcode(destinationDB), sql: nil)
        }
        var steps = 0
        while true {
            let rc = sqlite3_backup_step(backup, pagesPerStep)
            steps += 1
            if rc == SQLITE_DONE { break }
            if rc == SQLITE_OK || rc == SQLITE_BUSY || rc == SQLITE_LOCKED {
                usleep(pauseMicroseconds)
                continue
            }
            let pages = Int(sqlite3_backup_pagecount(backup))
            sqlite3_backup_finish(backup)
            throw SQLiteError(code: rc, message: "backup stopped after \(steps) steps of \(pages) pages: \(String(cString: sqlite3_errstr(rc)))")
        }
        let pages = Int(sqlite3_backup_pagecount(backup))
        let rc = sqlite3_backup_finish(backup)
        guard rc == SQLITE_OK else { throw SQLiteError(db: destinationDB, resultCode: rc, sql: nil) }
        return Report(pages: pages, steps: steps)
    }

    /// `PRAGMA integrity_check` of the file at `path` ("ok", or what is wrong), opened read-only.
    public static func integrityCheck(_ path: String) throws(SQLiteError) -> String {
        let connection = try Connection(path: path, flags: SQLITE_OPEN_READONLY | SQLITE_OPEN_NOMUTEX)
        defer { connection.close() }
        return try integrity(of: connection)
    }

    /// The newest migration applied to the file at `path` (0 when it has none), opened read-only.
    public static func schemaVersion(_ path: String) throws(SQLiteError) -> Int {
        let connection = try Connection(path: path, flags: SQLITE_OPEN_READONLY | SQLITE_OPEN_NOMUTEX)
        defer { connection.close() }
        let exists = try connection.queryOne(
            "SELECT 1 FROM sqlite_master WHERE type = 'table' AND name = 'schema_migrations'") != nil
        guard exists else { return 0 }
        return try connection.queryOne("SELECT COALESCE(MAX(version), 0) FROM schema_migrations")?.int(0) ?? 0
    }

    static func integrity(of connection: Connection) throws(SQLiteError) -> String {
        let rows = try connection.query("PRAGMA integrity_check")
        return rows.compactMap { $0.string(0) }.joined(separator: "; ")
    }
}
