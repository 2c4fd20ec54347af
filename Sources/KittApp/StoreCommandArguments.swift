import KittBase

/// The arguments the store commands share (`kitt import DIR`, `kitt migrate FILE`,
/// `kitt backup FILE`, `kitt restore FILE`): one positional operand plus `--data-dir` / `--db`.
struct StoreCommandArguments {
    /// The one positional operand (a directory or a file, per command).
    var operand: String
    var dataDirectory: String
    var databasePath: String
    /// `--database postgres://…` (or KITT_DATABASE_URL), for the commands that take one.
    var databaseURL: String? = nil

    /// `operand` names the positional in the usage error ("directory", "KITT database file", ...).
    /// `acceptsDatabaseURL`: `--database URL` (and KITT_DATABASE_URL) choose a PostgreSQL store,
    /// with the same rules as `kitt web`.
    static func parse(
        _ arguments: [String], command: String, operand: String, environment: [String: String],
        acceptsDatabaseURL: Bool = false
    ) throws -> StoreCommandArguments {
        var iterator = ArgumentIterator(arguments)
        var dataDirectory: String?
        var databasePath: String?
        var databaseURL: String?
        let flags = ["--data-dir", "--db"] + (acceptsDatabaseURL ? ["--database"] : []) + ["--help"]
        while let (flag, inline) = iterator.nextFlag() {
            switch flag {
            case "--data-dir": dataDirectory = try iterator.value(for: flag, inline: inline)
            case "--db": databasePath = try iterator.value(for: flag, inline: inline)
            case "--database" where acceptsDatabaseURL: databaseURL = try iterator.value(for: flag, inline: inline)
            default:
                let hint = Suggestion.hint(for: flag, in: flags)
                throw UsageError("unknown option '\(flag)' (see 'kitt \(command) --help')\(hint)")
            }
        }
        guard iterator.positional.count == 1, let value = iterator.positional.first else {
            throw UsageError("expected exactly one \(operand) (see 'kitt \(command) --help')")
        }
        let data = dataDirectory ?? Files.homeDirectory(environment: environment) + "/.kitt"
        var parsed = StoreCommandArguments(
            operand: value, dataDirectory: data, databasePath: databasePath ?? data + "/kitt.db")
        if acceptsDatabaseURL {
            parsed.databaseURL = try DatabaseFlag.resolve(databaseURL, databasePath: databasePath, environment: environment)
        }
        return parsed
    }
}
