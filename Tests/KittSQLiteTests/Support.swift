#if canImport(FoundationEssentials)
import FoundationEssentials
#else
import Foundation
#endif
import Dispatch
import KittSQLite
import Testing

/// A fresh directory under the system temp directory, removed when the test ends.
struct TempDirectory: ~Copyable {
    let url: URL

    init() throws {
        url = FileManager.default.temporaryDirectory
            .appendingPathComponent("kitt-sqlite-\(UUID().uuidString)", isDirectory: true)
        try FileManager.default.createDirectory(at: url, withIntermediateDirectories: true)
    }

    func path(_ name: String = "test.sqlite") -> String { url.appendingPathComponent(name).path }

    deinit { try? FileManager.default.removeItem(at: url) }
}

/// Opens a database in a temp directory, runs `body`, closes the database.
func withDatabase<R>(
    readerCount: Int = 4, synchronous: Synchronous = .full,
    _ body: (Database, String) throws -> R
) throws -> R {
    let dir = try TempDirectory()
    let path = dir.path()
    let db = try Database(path: path, readerCount: readerCount, synchronous: synchronous)
    defer { db.close() }
    return try body(db, path)
}

/// Waits on `semaphore` for at most `seconds`; false on timeout (so a bug fails the test
/// instead of hanging it).
func wait(_ semaphore: DispatchSemaphore, seconds: Double = 10) -> Bool {
    semaphore.wait(timeout: .now() + seconds) == .success
}

func count(_ db: Database, _ table: String = "t") throws -> Int {
    try db.read { try $0.queryOne("SELECT COUNT(*) FROM \(table)")?.int(0) } ?? -1
}

struct Boom: Error, Equatable {}
