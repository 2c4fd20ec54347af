internal import CSQLite

/// Column names of one result set, shared by all its rows.
final class ColumnNames: Sendable {
    let names: [String]
    let index: [String: Int]

    init(statement: OpaquePointer) {
        let count = Int(sqlite3_column_count(statement))
        var names: [String] = []
        names.reserveCapacity(count)
        for i in 0..<count {
            names.append(sqlite3_column_name(statement, Int32(i)).map { String(cString: $0) } ?? "")
        }
        self.names = names
        // First occurrence wins, as in SQL (`SELECT a.id, b.id` → "id" is a.id).
        self.index = Dictionary(names.enumerated().map { ($1, $0) }, uniquingKeysWith: { first, _ in first })
    }

    /// Exact match first; SQL identifiers are case-insensitive, so fall back to that.
    func position(of column: String) -> Int? {
        if let i = index[column] { return i }
        let lowered = column.lowercased()
        return names.firstIndex { $0.lowercased() == lowered }
    }
}

/// A materialized result row.
public struct Row: Sendable {
    let values: [SQLiteValue]
    let columns: ColumnNames

    public var count: Int { values.count }
    public var columnNames: [String] { columns.names }

    public subscript(_ index: Int) -> SQLiteValue { values[index] }

    /// The value of the named column. An unknown name is a programmer error: it traps in
    /// debug builds (so tests catch typos) and reads as `.null` in release builds.
    public subscript(_ column: String) -> SQLiteValue {
        guard let i = columns.position(of: column) else {
            assertionFailure("no column named \"\(column)\" in \(columns.names)")
            return .null
        }
        return values[i]
    }

    public func string(_ i: Int) -> String? { self[i].stringValue }
    public func int(_ i: Int) -> Int? { self[i].intValue }
    public func int64(_ i: Int) -> Int64? { self[i].int64Value }
    public func double(_ i: Int) -> Double? { self[i].doubleValue }
    public func bool(_ i: Int) -> Bool? { self[i].boolValue }
    public func blob(_ i: Int) -> [UInt8]? { self[i].blobValue }

    public func string(_ column: String) -> String? { self[column].stringValue }
    public func int(_ column: String) -> Int? { self[column].intValue }
    public func int64(_ column: String) -> Int64? { self[column].int64Value }
    public func double(_ column: String) -> Double? { self[column].doubleValue }
    public func bool(_ column: String) -> Bool? { self[column].boolValue }
    public func blob(_ column: String) -> [UInt8]? { self[column].blobValue }
}

/// The current row of a statement being stepped by `Connection.forEachRow`: reads columns
/// in place, without allocating a `Row`.
///
/// Noncopyable and handed out `borrowing`, so it cannot escape the closure; the statement
/// it reads is reset as soon as `forEachRow` returns. Typed reads follow the same rules as
/// `Row` (nil for NULL and for a storage class that does not convert).
public struct RowCursor: ~Copyable {
    let statement: OpaquePointer
    let columns: ColumnNames

    public var count: Int { columns.names.count }
    public var columnNames: [String] { columns.names }

    private func type(_ i: Int) -> Int32 {
        precondition(i >= 0 && i < count, "column index \(i) out of range 0..<\(count)")
        return sqlite3_column_type(statement, Int32(i))
    }

    public func isNull(_ i: Int) -> Bool { type(i) == SQLITE_NULL }

    public func string(_ i: Int) -> String? {
        guard type(i) == SQLITE_TEXT else { return nil }
        return withUnsafeBytes(i) { String(decoding: $0, as: UTF8.self) }
    }

    public func int64(_ i: Int) -> Int64? {
        guard type(i) == SQLITE_INTEGER else { return nil }
        return sqlite3_column_int64(statement, Int32(i))
    }

    public func int(_ i: Int) -> Int? { int64(i).flatMap { Int(exactly: $0) } }

    public func double(_ i: Int) -> Double? {
        switch type(i) {
        case SQLITE_FLOAT, SQLITE_INTEGER: sqlite3_column_double(statement, Int32(i))
        default: nil
        }
    }

    public func bool(_ i: Int) -> Bool? { int64(i).map { $0 != 0 } }

    public func blob(_ i: Int) -> [UInt8]? {
        switch type(i) {
        case SQLITE_BLOB, SQLITE_TEXT: withUnsafeBytes(i) { [UInt8]($0) }
        default: nil
        }
    }

    /// The bytes of a TEXT (UTF-8, not NUL-terminated) or BLOB column, valid only inside
    /// `body`. NULL gives an empty buffer; INTEGER and REAL give their text form.
    public func withUnsafeBytes<R>(_ i: Int, _ body: (UnsafeRawBufferPointer) throws -> R) rethrows -> R {
        let column = Int32(i)
        // Ask for the pointer first, then the length: sqlite3_column_bytes reports the size
        // of the representation the previous call produced.
        let base: UnsafeRawPointer? =
            type(i) == SQLITE_BLOB
            ? sqlite3_column_blob(statement, column)
            : sqlite3_column_text(statement, column).map { UnsafeRawPointer($0) }
        let length = Int(sqlite3_column_bytes(statement, column))
        return try body(UnsafeRawBufferPointer(start: length > 0 ? base : nil, count: length))
    }

    /// The column as an owned value.
    public func value(_ i: Int) -> SQLiteValue {
        let column = Int32(i)
        switch type(i) {
        case SQLITE_INTEGER: return .integer(sqlite3_column_int64(statement, column))
        case SQLITE_FLOAT: return .real(sqlite3_column_double(statement, column))
        case SQLITE_TEXT: return .text(withUnsafeBytes(i) { String(decoding: $0, as: UTF8.self) })
        case SQLITE_BLOB: return .blob(withUnsafeBytes(i) { [UInt8]($0) })
        default: return .null
        }
    }

    /// The index of the named column (exact, then case-insensitive), for hot loops that
    /// look it up once before iterating.
    public func index(of column: String) -> Int? { columns.position(of: column) }
}
