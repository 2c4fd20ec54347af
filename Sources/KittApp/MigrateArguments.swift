import KittBase
import KittPostgres

/// `kitt migrate`'s three forms: `FILE` (a KITT 1.x database), `--to [URL]` (this kitt's
/// SQLite store into PostgreSQL) and `--from [URL]` (PostgreSQL into a new SQLite store),
/// each with `--data-dir` / `--db`.
struct MigrateArguments {
    enum Mode {
        case kitt1(file: String)
        case toPostgres(ConnectionInfo)
        case fromPostgres(ConnectionInfo)
    }

    var mode: Mode
    var dataDirectory: String
    var databasePath: String

    static let flags = ["--to", "--from", "--data-dir", "--db", "--help"]

    /// The word after `--to`/`--from` is its URL unless it is another flag (or missing):
    /// then `KITT_DATABASE_URL` is, and without it that is a usage error.
    static func parse(_ arguments: [String], environment: [String: String]) throws -> MigrateArguments {
        var words = arguments[...]
        var normalized: [String] = []
        while let word = words.popFirst() {
            if word == "--to" || word == "--from", let next = words.first, !next.hasPrefix("-") {
                normalized.append(word + "=" + next)
                words.removeFirst()
            } else {
                normalized.append(word)
            }
        }
        var iterator = ArgumentIterator(normalized)
        var dataDirectory: String?
        var databasePath: String?
        var direction: (flag: String, url: String?)?
        while let (flag, inline) = iterator.nextFlag() {
            switch flag {
            case "--data-dir": dataDirectory = try iterator.value(for: flag, inline: inline)
            case "--db": databasePath = try iterator.value(for: flag, inline: inline)
            case "--to", "--from":
                if let given = direction {
                    throw UsageError(
                        given.flag == flag
                            ? "\(flag) given twice"
                            : "give --to (SQLite into PostgreSQL) or --from (PostgreSQL into SQLite), not both")
                }
                direction = (flag, inline)
            default:
                let hint = Suggestion.hint(for: flag, in: flags)
                throw UsageError("unknown option '\(flag)' (see 'kitt migrate --help')\(hint)")
            }
        }
        let data = dataDirectory ?? Files.homeDirectory(environment: environment) + "/.kitt"
        let database = databasePath ?? data + "/kitt.db"
        guard let direction else {
            guard iterator.positional.count == 1, let file = iterator.positional.first else {
                throw UsageError(
                    "expected exactly one KITT database file, or --to/--from a PostgreSQL URL (see 'kitt migrate --help')")
            }
            return MigrateArguments(mode: .kitt1(file: file), dataDirectory: data, databasePath: database)
        }
        if let extra = iterator.positional.first {
            throw UsageError(
                "\(direction.flag) copies kitt's own store (--db / --data-dir) and takes no FILE: '\(extra)' "
                    + "(a KITT 1.x database is migrated with 'kitt migrate FILE')")
        }
        let info = try connectionInfo(direction.url, flag: direction.flag, environment: environment)
        let mode: Mode = direction.flag == "--to" ? .toPostgres(info) : .fromPostgres(info)
        return MigrateArguments(mode: mode, dataDirectory: data, databasePath: database)
    }

    /// The URL given, else `KITT_DATABASE_URL`; a postgres:// URL, as `kitt web --database`
    /// takes (so one URL serves both); libpq's parse errors (password masked) are usage errors.
    private static func connectionInfo(_ given: String?, flag: String, environment: [String: String]) throws
        -> ConnectionInfo
    {
        let fromEnvironment = environment[ConnectionInfo.environmentVariable].flatMap { $0.isEmpty ? nil : $0 }
        guard let url = given ?? fromEnvironment, !url.isEmpty else {
            throw UsageError(
                "\(flag) needs a PostgreSQL URL (postgres://user@host:5432/db) or \(ConnectionInfo.environmentVariable) set")
        }
        guard ConnectionInfo.isURL(url) else {
            // Not echoed: another database's URL may hold its password.
            throw UsageError("\(flag) takes a PostgreSQL URL (postgres://user@host:5432/db)"
                + " (a KITT 1.x database is migrated with 'kitt migrate FILE')")
        }
        do {
            return try ConnectionInfo(url)
        } catch {
            throw UsageError("\(flag): \(error)")
        }
    }
}
