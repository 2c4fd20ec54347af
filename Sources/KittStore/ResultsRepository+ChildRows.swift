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

/// The benchmark, metric and hardware rows of the runs a transaction stores, gathered so
/// that a batch (an import's) writes them many rows per statement, after its run rows.
struct ResultChildRows {
    private var benchmarks: [SQLiteValue] = []
    private var metrics: [SQLiteValue] = []
    private var hardware: [SQLiteValue] = []
    /// The runs whose rows are gathered, in order.
    private(set) var runs: [Int64] = []

    private static let benchmarkInsert = MultiRowInsert(
        table: "benchmarks", columns: ["id", "run", "test_name", "test_version", "run_number", "passed"])
    private static let metricInsert = MultiRowInsert(table: "metrics", columns: ["id", "run", "benchmark_id", "name", "value"])
    private static let hardwareInsert = MultiRowInsert(
        table: "hardware",
        columns: ["run", "gpu_model", "gpu_vram_gb", "gpu_count", "cpu_model", "cpu_cores", "ram_gb", "environment_type",
                  "fingerprint"])

    /// Adds the rows of `document`, stored as run `rid`: its benchmarks and metrics in
    /// document order, numbered from the start of the run's id range (schema v12). Returns
    /// the count and sum of each metric name (in order of first appearance), for the
    /// summaries. Runs once per stored result, so values are appended one by one (no
    /// temporary arrays; no exact `reserveCapacity` either, which would copy the batch's
    /// arrays at every result) and names are matched by a scan while there are few.
    mutating func add(_ document: ResultDocument, run rid: Int64) throws -> [(name: String, count: Int, total: Double)] {
        let ids = try ResultChildIDs(run: rid, document: document)
        runs.append(rid)
        let run = SQLiteValue.integer(rid)
        var totals: [(name: String, count: Int, total: Double)] = []
        var positions: [String: Int]?  // once there are many names
        var metricID = ids.first
        for (position, benchmark) in document.benchmarks.enumerated() {
            let benchmarkID = SQLiteValue.integer(ids.first + Int64(position))
            benchmarks.append(benchmarkID)
            benchmarks.append(run)
            benchmarks.append(.text(benchmark.testName))
            benchmarks.append(.text(benchmark.testVersion))
            benchmarks.append(SQLiteValue(benchmark.runNumber))
            benchmarks.append(SQLiteValue(benchmark.passed))
            for metric in benchmark.metrics {
                metrics.append(.integer(metricID))
                metrics.append(run)
                metrics.append(benchmarkID)
                metrics.append(.text(metric.name))
                metrics.append(.real(metric.value))
                metricID += 1
                let index: Int?
                if let positions {
                    index = positions[metric.name]
                } else {
                    index = totals.firstIndex { $0.name == metric.name }
                }
                if let index {
                    totals[index].count += 1
                    totals[index].total += metric.value
                } else {
                    positions?[metric.name] = totals.count
                    totals.append((metric.name, 1, metric.value))
                    if positions == nil, totals.count > 16 {
                        positions = Dictionary(uniqueKeysWithValues: totals.enumerated().map { ($1.name, $0) })
                    }
                }
            }
        }
        if let h = document.hardware {
            hardware += [run, SQLiteValue(h.gpuModel), SQLiteValue(h.gpuVRAMGB), SQLiteValue(h.gpuCount),
                         SQLiteValue(h.cpuModel), SQLiteValue(h.cpuCores), SQLiteValue(h.ramGB),
                         SQLiteValue(h.environmentType), SQLiteValue(h.fingerprint)]
        }
        return totals
    }

    /// Adds the rows `other` gathered after this one's.
    mutating func append(_ other: ResultChildRows) {
        benchmarks += other.benchmarks
        metrics += other.metrics
        hardware += other.hardware
        runs += other.runs
    }

    /// Writes the rows gathered (and forgets them).
    mutating func write(into connection: Connection) throws {
        try Self.benchmarkInsert.run(benchmarks, into: connection)
        try Self.metricInsert.run(metrics, into: connection)
        try Self.hardwareInsert.run(hardware, into: connection)
        benchmarks.removeAll()
        metrics.removeAll()
        hardware.removeAll()
        runs.removeAll()
    }
}

/// The child rows of the runs stored by the bodies of one transaction (agents' reports: a
/// group commit runs a few in one transaction, one body each), written together before
/// COMMIT: three multi-row statements per transaction instead of three per report.
///
/// Nothing may read or delete a run's child rows between its insert and the flush;
/// `ResultsRepository.delete` refuses a run whose rows are still gathered here.
final class PendingResultChildRows: CommitAccumulator {
    var rows = ResultChildRows()

    init() {}

    func absorb(_ other: any CommitAccumulator) {
        guard let other = other as? PendingResultChildRows else { return }
        rows.append(other.rows)
    }

    func flush(into connection: Connection) throws {
        try rows.write(into: connection)
    }
}

/// `ResultsRepository.delete` of a run stored earlier in the same transaction (never done).
struct ResultStoredInThisTransaction: Error, CustomStringConvertible {
    let id: String
    var description: String { "result \(id) is stored in this transaction and cannot be deleted in it" }
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
    static let rowsPerStatement = 32

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
