import KittBase
import KittNet
import KittStore

/// `kitt migrate FILE [--data-dir DIR] [--db FILE]`: brings a KITT 1.x database into kitt's
/// store (see `KITT1Migration`); prints what it brought and skipped, per table, and why.
enum MigrateCommand {
    static let help = """
        Usage: kitt migrate FILE [--data-dir DIR] [--db FILE]

        Bring a KITT 1.x database (KITT's ~/.kitt/kitt.db, schema version 11) into kitt's store:
        agents with their tokens (installed agents keep working), agent settings and engines,
        campaigns (config as stored) with their logs, quick tests with their logs, results
        (every run with its benchmarks and metrics) and engine profiles.

        FILE is opened read-only and never changed. Ids are kept; whatever is already in the
        store is skipped, so running it again adds nothing. When FILE is the store itself
        (KITT's ~/.kitt/kitt.db with the default data dir), move it aside first:
          mv ~/.kitt/kitt.db ~/.kitt/kitt-1x.db && kitt migrate ~/.kitt/kitt-1x.db

        Options:
          --data-dir DIR   kitt's data directory (default ~/.kitt)
          --db FILE        kitt's database (default <data-dir>/kitt.db)
        """

    static func run(_ arguments: [String], environment: [String: String]) -> Int32 {
        if arguments.contains("--help") || arguments.contains("-h") {
            print(help)
            return 0
        }
        var iterator = ArgumentIterator(arguments)
        var dataDirectory: String?
        var databasePath: String?
        do {
            while let (flag, inline) = iterator.nextFlag() {
                switch flag {
                case "--data-dir": dataDirectory = try iterator.value(for: flag, inline: inline)
                case "--db": databasePath = try iterator.value(for: flag, inline: inline)
                default: throw UsageError("unknown option '\(flag)' (see 'kitt migrate --help')")
                }
            }
            guard iterator.positional.count == 1, let source = iterator.positional.first else {
                throw UsageError("expected exactly one KITT database file (see 'kitt migrate --help')")
            }
            let data = dataDirectory ?? Files.homeDirectory(environment: environment) + "/.kitt"
            let destination = databasePath ?? data + "/kitt.db"
            // Refuse before creating anything, so a wrong FILE leaves no empty store behind.
            try KITT1Migration.checkSource(source, destinationPath: destination)
            if let warning = try Files.makePrivateDirectory(data) { printError(warning) }
            let store = try Store(path: destination)
            defer { store.close() }
            let report = try KITT1Migration.run(
                source: source, into: store, destinationPath: destination, hashToken: { SHA256.hex($0) })
            print(report.description)
            return 0
        } catch let error as UsageError {
            printError("kitt migrate: \(error.description)")
            return 2
        } catch {
            printError("kitt migrate: \(error)")
            return 1
        }
    }
}
