#if canImport(Glibc)
import Glibc
#endif
import KittBase
import KittSQLite
import KittStore

/// `kitt backup FILE` and `kitt restore FILE` (SPEC §7.3).
enum BackupCommands {
    static let backupHelp = """
        Usage: kitt backup FILE [--data-dir DIR] [--db FILE]

        Write a consistent copy of kitt's database to FILE (a new file) while the server keeps
        serving: SQLite's online backup API copies one snapshot, in small steps, and the copy
        is integrity-checked before it is moved into place.
        """

    static let restoreHelp = """
        Usage: kitt restore FILE [--data-dir DIR] [--db FILE]

        Replace kitt's database with the backup FILE. The server must be stopped. FILE is
        integrity-checked first; the database it replaces is kept as <db>.pre-restore-<time>.
        """

    struct Target {
        var file: String
        var databasePath: String
    }

    /// FILE plus `--data-dir` / `--db`, as `kitt import` takes them.
    static func parse(_ arguments: [String], command: String, environment: [String: String]) throws -> Target {
        var iterator = ArgumentIterator(arguments)
        var dataDirectory: String?
        var databasePath: String?
        while let (flag, inline) = iterator.nextFlag() {
            switch flag {
            case "--data-dir": dataDirectory = try iterator.value(for: flag, inline: inline)
            case "--db": databasePath = try iterator.value(for: flag, inline: inline)
            default:
                let hint = Suggestion.hint(for: flag, in: ["--data-dir", "--db", "--help"])
                throw UsageError("unknown option '\(flag)' (see 'kitt \(command) --help')\(hint)")
            }
        }
        guard iterator.positional.count == 1, let file = iterator.positional.first else {
            throw UsageError("expected exactly one FILE (see 'kitt \(command) --help')")
        }
        let data = dataDirectory ?? Files.homeDirectory(environment: environment) + "/.kitt"
        return Target(file: file, databasePath: databasePath ?? data + "/kitt.db")
    }

    static func backup(_ arguments: [String], environment: [String: String]) -> Int32 {
        run(arguments, command: "backup", help: backupHelp, environment: environment) { target in
            guard Files.exists(target.databasePath) else {
                throw CommandError("no database at \(target.databasePath) (give --data-dir or --db)")
            }
            let report = try OnlineBackup.copy(from: target.databasePath, to: target.file)
            print("backed up \(target.databasePath) to \(target.file): \(report.pages) pages in \(report.steps) steps, integrity ok")
        }
    }

    static func restore(_ arguments: [String], environment: [String: String]) -> Int32 {
        run(arguments, command: "restore", help: restoreHelp, environment: environment) { target in
            guard Files.exists(target.file) else { throw CommandError("no such file: \(target.file)") }
            // Held for the whole restore, so a server cannot start half-way through.
            let lock = try InstanceLock.acquire(databasePath: target.databasePath)
            defer { lock.release() }
            let verdict = try OnlineBackup.integrityCheck(target.file)
            guard verdict == "ok" else { throw CommandError("\(target.file) failed its integrity check: \(verdict)") }
            let version = try OnlineBackup.schemaVersion(target.file)
            let newest = Store.migrations.last?.version ?? 0
            guard version > 0 else { throw CommandError("\(target.file) is not a kitt database (no schema_migrations)") }
            guard version <= newest else {
                throw CommandError("\(target.file) has schema version \(version), newer than this kitt's \(newest)")
            }
            let staged = target.databasePath + ".restoring"
            unlink(staged)
            _ = try OnlineBackup.copy(from: target.file, to: staged, sourceReadOnly: true)
            var kept: String?
            if Files.exists(target.databasePath) {
                // Root restoring for a server that runs as its own user: the copy gets the owner
                // of the database it replaces, or that server could not open it.
                var previous = stat()
                if stat(target.databasePath, &previous) == 0, getuid() == 0 {
                    chown(staged, previous.st_uid, previous.st_gid)
                }
                let aside = "\(target.databasePath).pre-restore-\(time(nil))"
                for suffix in ["", "-wal", "-shm"] where Files.exists(target.databasePath + suffix) {
                    guard rename(target.databasePath + suffix, aside + suffix) == 0 else {
                        throw CommandError("cannot move \(target.databasePath + suffix) aside: \(String(cString: strerror(errno)))")
                    }
                }
                kept = aside
            }
            guard rename(staged, target.databasePath) == 0 else {
                throw CommandError("cannot move the restored copy into place: \(String(cString: strerror(errno)))")
            }
            print("restored \(target.file) (schema version \(version)) to \(target.databasePath)")
            if let kept { print("the previous database is kept as \(kept)") }
            if version < newest { print("kitt web will migrate it from version \(version) to \(newest) at start") }
        }
    }

    private static func run(
        _ arguments: [String], command: String, help: String, environment: [String: String],
        _ body: (Target) throws -> Void
    ) -> Int32 {
        if arguments.contains("--help") || arguments.contains("-h") {
            print(help)
            return 0
        }
        do {
            try body(try parse(arguments, command: command, environment: environment))
            return 0
        } catch let error as UsageError {
            printError("kitt \(command): \(error.description)")
            return 2
        } catch {
            printError("kitt \(command): \(error)")
            return 1
        }
    }
}

/// A command failed for a reason worth one line (exit 1).
struct CommandError: Error, CustomStringConvertible {
    let description: String
    init(_ description: String) { self.description = description }
}
