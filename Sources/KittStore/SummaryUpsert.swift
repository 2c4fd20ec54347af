import KittSQLite

/// Adds deltas to the rows of one summary table of schema v5 (`result_groups`,
/// `metric_totals`, `result_sets`) with multi-row upserts, and deletes the rows whose count
/// falls to zero. A group commit of a few agents' reports touches a dozen summary rows:
/// one statement for all of them instead of one each (a statement costs far more than a row).
struct SummaryUpsert {
    /// Rows per statement: bounds the statements cached (one per row count, per table).
    static let rowsPerStatement = 16

    private let keys: [String]
    /// The upserts of 1...rowsPerStatement rows.
    private let upserts: [String]
    private let delete: String

    /// `sums` are added on conflict; the first is the count that empties a row at 0.
    init(table: String, keys: [String], sums: [String]) {
        self.keys = keys
        let columns = keys + sums
        let row = "(" + columns.map { _ in "?" }.joined(separator: ", ") + ")"
        let update = sums.map { "\($0) = \($0) + excluded.\($0)" }.joined(separator: ", ")
        let keyList = keys.joined(separator: ", ")
        upserts = (1...Self.rowsPerStatement).map { rows in
            "INSERT INTO \(table) (\(columns.joined(separator: ", "))) VALUES "
                + Array(repeating: row, count: rows).joined(separator: ", ")
                + " ON CONFLICT (\(keyList)) DO UPDATE SET \(update) RETURNING \(keyList), \(sums[0])"
        }
        delete = "DELETE FROM \(table) WHERE " + keys.map { "\($0) = ?" }.joined(separator: " AND ")
    }

    static let groups = SummaryUpsert(table: "result_groups", keys: ["kind", "value"], sums: ["runs"])
    static let metrics = SummaryUpsert(table: "metric_totals", keys: ["kind", "value", "name"], sums: ["count", "total"])
    static let sets = SummaryUpsert(table: "result_sets", keys: ["model", "engine", "suite_name"], sums: ["runs"])

    static let chunks = SummaryUpsert(table: "run_chunks", keys: ["kind", "value", "ts", "id"], sums: ["count"])

    /// `rows` are each the key values then the deltas, in the column order of `init`.
    /// Returns every row's key and its count after the change (the emptied ones are deleted).
    @discardableResult
    func apply(_ c: Connection, _ rows: [[SQLiteValue]]) throws -> [(key: [SQLiteValue], count: Int)] {
        var changed: [(key: [SQLiteValue], count: Int)] = []
        var start = 0
        while start < rows.count {
            let end = min(rows.count, start + Self.rowsPerStatement)
            for row in try c.query(upserts[end - start - 1], rows[start..<end].flatMap { $0 }) {
                changed.append(((0..<keys.count).map { row[$0] }, row.int(keys.count) ?? 0))
            }
            start = end
        }
        for (key, count) in changed where count <= 0 { try c.run(delete, key) }
        return changed
    }
}
