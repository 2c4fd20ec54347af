import KittSQLite

/// The ids of a run's benchmark and metric rows (schema v12): run `rid` owns the ids
/// `rid × 2^24 ..< (rid + 1) × 2^24` in both tables, its rows numbered from the start of
/// that range in document order.
struct ResultChildIDs {
    /// The id of the run's first benchmark and of its first metric row.
    let first: Int64

    /// Throws when the run's rows would not fit in its range (or the range past Int64):
    /// never for a result that fits in a request body.
    init(run rid: Int64, document: ResultDocument) throws {
        let metrics = document.benchmarks.reduce(0) { $0 + $1.metrics.count }
        guard rid >= 0, rid < Int64.max / Schema.childIDStride - 1,
            Int64(max(metrics, document.benchmarks.count)) < Schema.childIDStride
        else { throw ResultTooLarge(benchmarks: document.benchmarks.count, metrics: metrics) }
        first = rid * Schema.childIDStride
    }

    /// The ids that may belong to run `rid` (empty for a run key out of the ranges).
    static func range(run rid: Int64) -> Range<Int64> {
        guard rid >= 0, rid < Int64.max / Schema.childIDStride - 1 else { return 0..<0 }
        return rid * Schema.childIDStride..<(rid + 1) * Schema.childIDStride
    }
}

/// A result with more benchmark or metric rows than a run's id range holds.
public struct ResultTooLarge: Error, CustomStringConvertible {
    public let benchmarks: Int
    public let metrics: Int
    public var description: String {
        "result has \(benchmarks) benchmarks and \(metrics) metrics; at most \(Schema.childIDStride - 1) of each are stored"
    }
}

/// `INSERT INTO table (columns) VALUES (...), (...)` of up to `rowsPerStatement` rows per
/// statement: one statement costs more than a row, and one statement text per row count
/// bounds the statements cached.
struct MultiRowInsert {
    static let rowsPerStatement = 16

    private let columnCount: Int
    /// The statements of 1...rowsPerStatement rows.
    private let statements: [String]

    init(table: String, columns: [String]) {
        columnCount = columns.count
        let row = "(" + Array(repeating: "?", count: columns.count).joined(separator: ", ") + ")"
        statements = (1...Self.rowsPerStatement).map { rows in
            "INSERT INTO \(table) (\(columns.joined(separator: ", "))) VALUES "
                + Array(repeating: row, count: rows).joined(separator: ", ")
        }
    }

    /// Inserts `values` (the columns of each row in order, row after row) in order.
    func run(_ values: [SQLiteValue], into connection: Connection) throws {
        let perStatement = columnCount * Self.rowsPerStatement
        var start = 0
        while start < values.count {
            let end = min(values.count, start + perStatement)
            try connection.run(statements[(end - start) / columnCount - 1], Array(values[start..<end]))
            start = end
        }
    }
}
