#if canImport(Glibc)
import Glibc
#endif
import KittBase
import Dispatch
import KittAPI
import KittPostgres
import KittStore
import KittStorePostgres

/// The `kitt` command line: `web`, `import`, `--version`, `help`.
public enum KittCommand {
    public static let usage = """
        Usage: kitt <command> [options]

        Commands:
          web          serve the KITT REST API (see 'kitt web --help')
          import DIR   load every metrics.json under DIR into the store
          migrate FILE bring a KITT 1.x database into the store (see 'kitt migrate --help')
          migrate --to URL | --from URL
                       copy the store into PostgreSQL, or from PostgreSQL into a new SQLite file
          agent        run a KITT agent against a kitt server (see 'kitt agent --help')
          openapi      print the API's OpenAPI 3.1 document (--markdown: the endpoint reference)
          backup FILE  copy the live database to FILE (safe while the server runs)
          restore FILE replace the database with a backup (the server must be stopped)
          completion   print a shell completion script (bash or zsh)
          help         show this help

        Options:
          --version    print the version
          -h, --help   show this help
        """

    /// The subcommands, for "did you mean" (keep in step with `usage` and `run`).
    static let commands = ["web", "import", "migrate", "agent", "openapi", "backup", "restore", "completion", "help", "version", "--version", "--help"]

    /// Runs the command line; returns the process exit code (`web` only returns on shutdown).
    public static func run(_ arguments: [String], environment: [String: String]) -> Int32 {
        guard let command = arguments.first else {
            printError(usage)
            return 2
        }
        let rest = Array(arguments.dropFirst())
        switch command {
        case "--version", "version":
            print("kitt \(KittVersion.current)")
            return 0
        case "help", "--help", "-h":
            switch rest.first {
            case "web": print(WebOptions.help)
            case "migrate": print(MigrateCommand.help)
            default: print(usage)
            }
            return 0
        case "agent": return AgentCommand.run(rest, environment: environment)
        case "web":
            if rest.contains("--help") || rest.contains("-h") {
                print(WebOptions.help)
                return 0
            }
            do {
                let options = try WebOptions.parse(rest, environment: environment)
                return serve(options, environment: environment)
            } catch let error as UsageError {
                printError("kitt web: \(error.description)")
                return 2
            } catch {
                printError("kitt web: \(error)")
                return 1
            }
        case "import":
            return importResults(rest, environment: environment)
        case "migrate":
            return MigrateCommand.run(rest, environment: environment)
        case "openapi":
            return OpenAPICommand.run(rest)
        case "completion":
            return Completion.run(rest)
        case "backup":
            return BackupCommands.backup(rest, environment: environment)
        case "restore":
            return BackupCommands.restore(rest, environment: environment)
        default:
            let hint = Suggestion.hint(for: command, in: KittCommand.commands)
            printError("kitt: unknown command '\(command)' (see 'kitt help')\(hint)")
            return 2
        }
    }

    static let importHelp = """
        Usage: kitt import DIR [--data-dir DIR] [--db FILE | --database URL]

        Load every metrics.json under DIR into the store: the SQLite file (--db, default
        <data-dir>/kitt.db) or PostgreSQL (--database postgres://…, or KITT_DATABASE_URL; a
        running server sees the results at once). Files already imported are skipped;
        each invalid file is named on stderr. Progress goes to stderr (a live line on a
        terminal, a plain line every few seconds otherwise); the summary to stdout, once
        everything imported is synced to disk (an interrupted import loses at most its last
        batches; run it again to add them).
        Exit status: 0, or 1 when any file was invalid or the import failed.
        """

    /// `kitt import DIR`: prints what was imported and what was skipped, and why.
    static func importResults(_ arguments: [String], environment: [String: String]) -> Int32 {
        if arguments.contains("--help") || arguments.contains("-h") {
            print(importHelp)
            return 0
        }
        do {
            let arguments = try StoreCommandArguments.parse(
                arguments, command: "import", operand: "directory", environment: environment,
                acceptsDatabaseURL: true)
            let directory = arguments.operand
            let store: any DataStore
            if let url = arguments.databaseURL {
                store = try PostgresStore(ConnectionInfo(url), connections: 2)
            } else {
                if let warning = try Files.makePrivateDirectory(arguments.dataDirectory) { printError(warning) }
                // No fsync per batch: the import syncs once at its end (`ResultImporter.run`).
                store = try Store(path: arguments.databasePath, synchronous: .normal, checkpointPolicy: .bulkLoad)
            }
            defer { store.close() }
            let progress = ImportProgressPrinter(terminal: isatty(STDERR_FILENO) == 1)
            let report = ResultImporter.run(
                directory: directory, store: store, progressEvery: progress.interval,
                onInvalid: { path, reason in progress.clear(); printError("invalid \(path): \(reason)") },
                onProgress: progress.show)
            progress.clear()
            if let error = report.error, report.imported + report.alreadyImported + report.invalid == 0 {
                printError("kitt import: \(error)")  // nothing happened: no summary to contradict it
                return 1
            }
            print(report.summary)
            if let error = report.error { printError("kitt import: \(error)") }
            return report.error == nil && report.invalid == 0 ? 0 : 1
        } catch let error as UsageError {
            printError("kitt import: \(error.description)")
            return 2
        } catch {
            printError("kitt import: \(error)")
            return 1
        }
    }

    /// Starts the server and parks the main thread until SIGINT/SIGTERM.
    static func serve(_ options: WebOptions, environment: [String: String]) -> Int32 {
        // A write to a socket whose peer is gone must return EPIPE, not kill the process.
        signal(SIGPIPE, SIG_IGN)
        let app: WebApp
        do {
            app = try WebApp.start(options, environment: environment)
        } catch {
            printError("kitt web: cannot start: \(error)")
            return 1
        }
        let signals = DispatchQueue(label: "kitt.signals")
        let stopped = DispatchSemaphore(value: 0)
        var sources: [any DispatchSourceSignal] = []
        for signalNumber in [SIGINT, SIGTERM] {
            signal(signalNumber, SIG_IGN)
            let source = DispatchSource.makeSignalSource(signal: signalNumber, queue: signals)
            source.setEventHandler {
                printError("kitt web: shutting down")
                app.stop()
                stopped.signal()
            }
            source.resume()
            sources.append(source)
        }
        stopped.wait()
        _ = sources
        return 0
    }
}
