import KittSQLite

/// Opening the store failed: the message names the file, since "unable to open database file"
/// alone does not say which one (SPEC §7.3).
public struct StoreOpenError: Error, CustomStringConvertible {
    public let path: String
    public let underlying: any Error

    public var description: String {
        var text = "cannot open the database \(path): \(underlying)"
        if let sqlite = underlying as? SQLiteError {
            switch sqlite.code {
            case 14: text += " (does its directory exist, and may kitt write there?)"
            case 26: text += " (the file is not a SQLite database)"
            case 8: text += " (the file or its directory is read-only)"
            default: break
            }
        }
        return text
    }
}
