import KittSQLite

/// Adds deltas to the rows of one summary table of schema v5 (`result_groups`,
/// `metric_totals`, `result_sets`) with multi-row upserts, and deletes the rows whose count
/// falls to zero. A group commit of a few agents' reports touches a dozen summary rows:
/// one statement for all of them instead of one each (a statement costs far more than a row).
struct SummaryUpsert {
    /// Rows per statement: bounds the statements cached (one per row count, per table).
    static let rowsPerStatement = 16

    private let keys: [String]
    /// The upserts of 1...rowsPerStatement rows, returning each row's key and count after...
    private let upserts: [String]
    /// ...or returning nothing, for rows that only grow (RETURNING costs about as much as
    /// the upsert itself).
    private let growths: [String]
    private let delete: String

    /// `sums` are added on conflict; the first is the count that empties a row at 0.
    init(table: String, keys: [String], sums: [String]) {
        self.keys = keys
        let columns = keys + sums
        let row = "(" + columns.map { _ in "?" }.joined(separator: ", ") + ")"
        let update = sums.map { "\($0) = \($0) + excluded.\($0)" }.joined(separator: ", ")
        let keyList = keys.joined(separator: ", ")
        growths = (1...Self.rowsPerStatement).map { rows in
            "INSERT INTO \(table) (\(columns.joined(separator: ", "))) VALUES "
                + Array(repeating: row, count: rows).joined(separator: ", ")
                + " ON CONFLICT (\(keyList)) DO UPDATE SET \(update)"
        }
        upserts = growths.map { $0 + " RETURNING \(keyList), \(sums[0])" }
        delete = "DELETE FROM \(table) WHERE " + keys.map { "\($0) = ?" }.joined(separator: " AND ")
    }

    static let groups = SummaryUpsert(table: "result_groups", keys: ["kind", "value"], sums: ["runs"])
    static let metrics = SummaryUpsert(table: "metric_totals", keys: ["kind", "value", "name"], sums: ["count", "total"])
    static let sets = SummaryUpsert(table: "result_sets", keys: ["model", "engine", "suite_name"], sums: ["runs"])

    static let chunks = SummaryUpsert(table: "run_chunks", keys: ["kind", "value", "ts", "id"], sums: ["count"])
    static let heads = SummaryUpsert(table: "run_chunk_heads", keys: ["kind", "value"], sums: ["count"])

    /// `rows` are each the key values then the deltas, in the column order of `init`.
    /// Returns the key and count after the change of every row whose count did not grow
    /// (those emptied are deleted) and, with `countsOfGrowths`, of every row.
    @discardableResult
    func apply(_ c: Connection, _ rows: [[SQLiteValue]], countsOfGrowths: Bool = false) throws
        -> [(key: [SQLiteValue], count: Int)]
    {
        // A row that exists has a count above zero, so a positive delta never empties it.
        var growing: [[SQLiteValue]] = []
        var others: [[SQLiteValue]] = []
        for row in rows {
            if !countsOfGrowths, (row[keys.count].intValue ?? 0) > 0 { growing.append(row) } else { others.append(row) }
        }
        try batches(growing) { sql, bindings in try c.run(growths[sql], bindings) }
        var changed: [(key: [SQLiteValue], count: Int)] = []
        try batches(others) { sql, bindings in
            for row in try c.query(upserts[sql], bindings) {
                changed.append(((0..<keys.count).map { row[$0] }, row.int(keys.count) ?? 0))
            }
        }
        for (key, count) in changed where count <= 0 { try c.run(delete, key) }
        return changed
    }

    /// Calls `body` with (statement index, bindings) for each statement of `rows`.
    private func batches(_ rows: [[SQLiteValue]], _ body: (Int, [SQLiteValue]) throws -> Void) throws {
        var start = 0
        while start < rows.count {
            let end = min(rows.count, start + Self.rowsPerStatement)
            try body(end - start - 1, rows[start..<end].flatMap { $0 })
            start = end
        }
    }
}
