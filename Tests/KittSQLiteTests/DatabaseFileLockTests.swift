#if canImport(FoundationEssentials)
import FoundationEssentials
#else
import Foundation
#endif
#if canImport(Glibc)
import Glibc
#endif
import KittSQLite
import Testing

/// An open Database keeps SQLite's shared lock on its file, from opening to closing, through
/// a `syncToDisk`. Without it, another process closing its connection takes itself for the
/// file's last user and deletes the WAL this one still writes to. Closing any descriptor of
/// the file drops the process's POSIX locks on it, so kitt itself must never open and close
/// the database file while a connection is open.
@Suite struct DatabaseFileLockTests {
    /// Whether this process holds a POSIX read lock on the file at `path` (`/proc/locks`:
    /// "1: POSIX  ADVISORY  READ <pid> <major>:<minor>:<inode> <start> <end>").
    static func holdsReadLock(on path: String) throws -> Bool {
        var info = stat()
        try #require(stat(path, &info) == 0)
        let pid = String(getpid())
        let text = try String(contentsOfFile: "/proc/locks", encoding: .utf8)
        return text.split(separator: "\n").contains { line in
            let fields = line.split(separator: " ", omittingEmptySubsequences: true)
            return fields.count >= 6 && fields[1] == "POSIX" && fields[3] == "READ" && fields[4] == pid
                && fields[5].hasSuffix(":\(info.st_ino)")
        }
    }

    @Test func theLockHoldsFromOpenToCloseThroughASync() throws {
        let dir = try TempDirectory()
        let path = dir.path()
        let db = try Database(path: path, synchronous: .normal)
        try db.write { try $0.execute("CREATE TABLE t (n INTEGER)") }
        #expect(try Self.holdsReadLock(on: path), "no lock after opening")
        try db.write { try $0.run("INSERT INTO t VALUES (1)") }
        try db.syncToDisk()
        #expect(try Self.holdsReadLock(on: path), "no lock after syncToDisk")
        #expect(try db.read { try $0.queryOne("SELECT COUNT(*) FROM t")?.int(0) } == 1)
        db.close()
        #expect(try !Self.holdsReadLock(on: path))
    }
}
