/// Column names of one result, shared by its rows.
final class PostgresColumns: Sendable {
    let names: [String]
    let index: [String: Int]

    init(names: [String]) {
        self.names = names
        self.index = Dictionary(names.enumerated().map { ($1, $0) }, uniquingKeysWith: { first, _ in first })
    }
}

/// A materialized row in text format. Typed reads parse the server's text and give nil for
/// NULL, for a column that does not exist and for text that does not parse as the type
/// asked: nothing the server sends can trap.
public struct PostgresRow: Sendable {
    let values: [String?]
    let columns: PostgresColumns

    public var count: Int { values.count }
    public var columnNames: [String] { columns.names }

    public func isNull(_ i: Int) -> Bool { text(i) == nil }

    /// The column's text as the server sent it (nil for NULL or an index out of range).
    public func text(_ i: Int) -> String? { values.indices.contains(i) ? values[i] : nil }

    public func string(_ i: Int) -> String? { text(i) }
    public func int64(_ i: Int) -> Int64? { text(i).flatMap { Int64($0) } }
    public func int(_ i: Int) -> Int? { int64(i).flatMap { Int(exactly: $0) } }

    /// float8/numeric/integer text, including PostgreSQL's NaN and ±Infinity spellings.
    public func double(_ i: Int) -> Double? {
        guard let s = text(i) else { return nil }
        switch s {
        case "NaN": return .nan
        case "Infinity": return .infinity
        case "-Infinity": return -.infinity
        default: return Double(s)
        }
    }

    /// boolean (`t`/`f`); integers read as C does (0 false, else true) so either schema style works.
    public func bool(_ i: Int) -> Bool? {
        guard let s = text(i) else { return nil }
        switch s {
        case "t", "true": return true
        case "f", "false": return false
        default: return Int64(s).map { $0 != 0 }
        }
    }

    /// bytea in hex output (`\x…`, the default since 9.0); other columns give their UTF-8 bytes.
    public func bytes(_ i: Int) -> [UInt8]? {
        guard let s = text(i) else { return nil }
        let utf8 = Array(s.utf8)
        if utf8.count >= 2, utf8[0] == 0x5C, utf8[1] == 0x78, let decoded = Hex.decode(utf8.dropFirst(2)) {
            return decoded
        }
        return utf8
    }

    public func index(of column: String) -> Int? {
        if let i = columns.index[column] { return i }
        let lowered = column.lowercased()
        return columns.names.firstIndex { $0.lowercased() == lowered }
    }

    public func string(_ column: String) -> String? { index(of: column).flatMap(string) }
    public func int(_ column: String) -> Int? { index(of: column).flatMap(int) }
    public func int64(_ column: String) -> Int64? { index(of: column).flatMap(int64) }
    public func double(_ column: String) -> Double? { index(of: column).flatMap(double) }
    public func bool(_ column: String) -> Bool? { index(of: column).flatMap(bool) }
}

/// What a statement returned: its rows (if any) and the rows it changed.
public struct PostgresResult: Sendable {
    public let rows: [PostgresRow]
    /// `PQcmdTuples`: rows inserted/updated/deleted (0 for statements that report none).
    public let affectedRows: Int
}
