#if canImport(Glibc)
import Glibc
#endif
import KittBase
import KittPostgres
import KittSQLite
import KittStore
import KittStorePostgres

/// `kitt migrate --to URL` and `--from URL`: kitt's SQLite store into PostgreSQL and back
/// (`StoreCopy`), holding the SQLite store's instance lock so no `kitt web` runs on it
/// meanwhile.
extension MigrateCommand {
    static func copyToPostgres(_ info: ConnectionInfo, _ arguments: MigrateArguments) throws {
        let path = arguments.databasePath
        guard Files.exists(path) else { throw CommandError("no kitt store at \(path) (give --data-dir or --db)") }
        // A running server could write after the copy's snapshot, and those writes would be lost.
        let lock = try InstanceLock.acquire(databasePath: path)
        defer { lock.release() }
        let source = try Store(path: path, readerCount: 1)
        defer { source.close() }
        let target = try PostgresStore(info, connections: 1)
        defer { target.close() }
        let copy = CopyPrinter(from: path, to: info.description)
        copy.start()
        copy.finish(try StoreCopy.copy(from: source, to: target, progress: copy.table))
    }

    static func copyFromPostgres(_ info: ConnectionInfo, _ arguments: MigrateArguments) throws {
        let path = arguments.databasePath
        let source = try StoreCopy.inspectSource(info)
        guard source.holdsKittStore else {
            throw CommandError("\(info) holds no kitt store (no kitt tables): check the database name")
        }
        if source.otherSessions > 0 {
            printError(
                "kitt migrate: warning: \(source.otherSessions) other session(s) are connected to \(info); "
                    + "what they write after the copy starts is not in the copy")
        }
        try refuseForeignFile(path)
        if let warning = try Files.makePrivateDirectory(arguments.dataDirectory) { printError(warning) }
        let created = !Files.exists(path)
        let lockCreated = !Files.exists(InstanceLock.path(for: path))
        let lock = try InstanceLock.acquire(databasePath: path)
        defer { lock.release() }
        do {
            let pg = try PostgresStore(info, connections: 1)
            defer { pg.close() }
            let target = try Store(path: path, readerCount: 1)
            defer { target.close() }
            let copy = CopyPrinter(from: info.description, to: path)
            copy.start()
            copy.finish(try StoreCopy.copy(from: pg, to: target, progress: copy.table))
        } catch {
            // The transaction left the store empty; one this command created goes entirely.
            if created {
                for suffix in ["", "-wal", "-shm", "-journal"] { unlink(path + suffix) }
                if lockCreated { unlink(InstanceLock.path(for: path)) }
            }
            throw error
        }
    }
}

extension MigrateCommand {
    /// `--from` writes into a new file or an empty kitt store, never into another program's
    /// SQLite database (opening it as a store would add kitt's tables to it).
    static func refuseForeignFile(_ path: String) throws {
        var info = stat()
        guard stat(path, &info) == 0, info.st_size > 0 else { return }
        try KITT1Database.refuseAsStore(path)
        guard try OnlineBackup.schemaVersion(path) > 0 else {
            throw CommandError("\(path) is not a kitt store (no schema_migrations); give a new file with --db")
        }
    }
}

/// What a store copy prints: where from and to, rows per table as each is done, one summary line.
struct CopyPrinter {
    let from: String
    let to: String
    private let started = ContinuousClock.now

    init(from: String, to: String) {
        self.from = from
        self.to = to
    }

    func start() {
        print("copying \(from) into \(to) (one transaction)")
        fflush(nil)  // every stream: a long copy shows its progress through a pipe too
    }

    func table(_ name: String, _ rows: Int) {
        print("  " + name + String(repeating: " ", count: max(1, 24 - name.count)) + "\(rows) rows")
        fflush(nil)  // every stream: a long copy shows its progress through a pipe too
    }

    func finish(_ copied: [(table: String, rows: Int)]) {
        let elapsed = (ContinuousClock.now - started).components
        let seconds = ((Double(elapsed.seconds) + Double(elapsed.attoseconds) / 1e18) * 100).rounded() / 100
        let total = copied.reduce(0) { $0 + $1.rows }
        print("copied \(total) rows in \(copied.count) tables from \(from) into \(to) in \(plainNumber(seconds)) s")
    }
}
