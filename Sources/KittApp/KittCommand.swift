#if canImport(Glibc)
import Glibc
#endif
import Dispatch
import KittAPI

/// The `kitt` command line: `web`, `import`, `--version`, `help`.
public enum KittCommand {
    public static let usage = """
        Usage: kitt <command> [options]

        Commands:
          web          serve the KITT REST API (see 'kitt web --help')
          import DIR   load every metrics.json under DIR into the store
          agent        run a KITT agent against a kitt server (see 'kitt agent --help')
          help         show this help

        Options:
          --version    print the version
          -h, --help   show this help
        """

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
            if rest.first == "web" { print(WebOptions.help) } else { print(usage) }
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
        default:
            printError("kitt: unknown command '\(command)' (see 'kitt help')")
            return 2
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
