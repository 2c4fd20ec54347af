import KittBase
import KittNet
import KittPostgres
import KittStore

/// `kitt migrate FILE`: brings a KITT 1.x database into kitt's store (see `KITT1Migration`);
/// prints what it brought and skipped, per table, and why. `kitt migrate --to URL` /
/// `--from URL` copy kitt's own store into PostgreSQL and back (`MigrateCommand+Postgres`).
enum MigrateCommand {
    static let help = """
        Usage: kitt migrate FILE [--data-dir DIR] [--db FILE]
               kitt migrate --to URL [--data-dir DIR] [--db FILE]
               kitt migrate --from URL [--data-dir DIR] [--db FILE]

        kitt migrate FILE
        Bring a KITT 1.x database (KITT's ~/.kitt/kitt.db, schema version 11) into kitt's store:
        agents with their tokens (installed agents keep working), agent settings and engines,
        campaigns (config as stored) with their logs, quick tests with their logs, results
        (every run with its benchmarks and metrics) and engine profiles.

        FILE is opened read-only and never changed. Ids are kept; whatever is already in the
        store is skipped, so running it again adds nothing. When FILE is the store itself
        (KITT's ~/.kitt/kitt.db with the default data dir), move it aside first:
          mv ~/.kitt/kitt.db ~/.kitt/kitt-1x.db && kitt migrate ~/.kitt/kitt-1x.db

        kitt migrate --to URL
        Copy this machine's kitt store (the SQLite database) into the PostgreSQL database URL,
        to serve it with 'kitt web --database URL'. The PostgreSQL database must hold no kitt
        data yet (kitt creates its tables). Stop 'kitt web' on the SQLite store first: the copy
        refuses a store a running server holds, and a server cannot start during the copy.

        kitt migrate --from URL
        Copy the kitt store in the PostgreSQL database URL into a new SQLite database (--db,
        default <data-dir>/kitt.db), which must not exist yet or be an empty kitt store. The
        copy is one consistent snapshot: what kitt instances write after it starts is not in
        it, so stop them first. SQLite's result summaries are rebuilt from the copied results.

        Both copies keep every row as it is (ids, timestamps, result documents byte for byte),
        print the rows copied per table and write in one transaction: a failure leaves the
        target as empty as it was.

        URL is postgres://user@host:5432/db, as for 'kitt web --database' (sslmode and the other
        libpq parameters as query options). Leave the password out of it (command lines are
        visible to every user in ps): libpq reads PGPASSWORD or ~/.pgpass. Without a URL after
        --to/--from, KITT_DATABASE_URL is used. Passwords are never printed.

        Options:
          --to URL         copy the SQLite store into PostgreSQL
          --from URL       copy PostgreSQL into a new SQLite store
          --data-dir DIR   kitt's data directory (default ~/.kitt)
          --db FILE        kitt's SQLite database (default <data-dir>/kitt.db)

        Exit status: 0 done, 1 failed (a --to/--from copy leaves its target empty), 2 usage error.
        """

    static func run(_ arguments: [String], environment: [String: String]) -> Int32 {
        if arguments.contains("--help") || arguments.contains("-h") {
            print(help)
            return 0
        }
        do {
            let arguments = try MigrateArguments.parse(arguments, environment: environment)
            switch arguments.mode {
            case .kitt1(let file):
                if !(environment[ConnectionInfo.environmentVariable] ?? "").isEmpty {
                    printError(
                        "kitt migrate: note: \(ConnectionInfo.environmentVariable) is set, but a KITT 1.x database goes into "
                            + "the SQLite store (\(arguments.databasePath)); move it with 'kitt migrate --to' afterwards")
                }
                try migrateKITT1(file, arguments)
            case .toPostgres(let info): try copyToPostgres(info, arguments)
            case .fromPostgres(let info): try copyFromPostgres(info, arguments)
            }
            return 0
        } catch let error as UsageError {
            printError("kitt migrate: \(error.description)")
            return 2
        } catch {
            printError("kitt migrate: \(error)")
            return 1
        }
    }

    private static func migrateKITT1(_ source: String, _ arguments: MigrateArguments) throws {
        let destination = arguments.databasePath
        // Refuse before creating anything, so a wrong FILE leaves no empty store behind.
        try KITT1Migration.checkSource(source, destinationPath: destination)
        if let warning = try Files.makePrivateDirectory(arguments.dataDirectory) { printError(warning) }
        let store = try Store(path: destination)
        defer { store.close() }
        let report = try KITT1Migration.run(
            source: source, into: store, destinationPath: destination, hashToken: { SHA256.hex($0) })
        print(report.description)
    }
}
