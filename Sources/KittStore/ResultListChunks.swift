#if canImport(Glibc)
import Glibc
#endif
import KittSQLite
import Synchronization

/// One list of results (`run_chunks`, `run_chunk_heads`): all runs (`kind` ""), or the runs
/// whose columns equal the filter's values, in list order: timestamp DESC, then id. Schema
/// v5 keeps the lists of one column; v9 adds the combined filters (two or three columns).
struct ResultList: Hashable {
    /// The filtered columns joined by "+" ("" for none): fixed strings, never input.
    let kind: String
    /// The column's value; for several columns each value as `<UTF-8 length>:<value>`, so
    /// the encoding is unambiguous whatever the values hold (the v9 backfill makes the same
    /// string in SQL).
    let value: String
    /// The filtered (column, value) pairs, in the order model, engine, suite_name.
    let filters: [Filter]
    /// `kind` and `value` hashed once: the writer's flush looks every list of a report up in
    /// several dictionaries (positions, head counts, chunks, the head cache), and hashing the
    /// two strings each time was ~10 % of its time.
    private let nameHash: Int

    struct Filter: Hashable {
        let column: String
        let value: String
    }

    init(_ filters: [Filter]) {
        self.init(filters, kind: filters.map(\.column).joined(separator: "+"))
    }

    /// `kind` must be the columns of `filters` joined by "+".
    private init(_ filters: [Filter], kind: String) {
        self.filters = filters
        self.kind = kind
        if filters.count == 1 {
            value = filters[0].value
        } else {
            var value = ""
            for filter in filters {
                value += String(filter.value.utf8.count)
                value += ":"
                value += filter.value
            }
            self.value = value
        }
        var hasher = Hasher()
        hasher.combine(kind)
        hasher.combine(value)
        nameHash = hasher.finalize()
    }

    static let all = ResultList([])

    // Equal lists have equal names: hash and compare only those.
    static func == (a: ResultList, b: ResultList) -> Bool {
        a.nameHash == b.nameHash && a.kind == b.kind && a.value == b.value
    }
    func hash(into hasher: inout Hasher) {
        hasher.combine(nameHash)
    }

    /// The eight lists a run belongs to: every subset of its three columns.
    static func lists(model: String, engine: String, suiteName: String) -> [ResultList] {
        // Made once per set at every write, so without generic subsets and joins.
        let m = Filter(column: "model", value: model)
        let e = Filter(column: "engine", value: engine)
        let s = Filter(column: "suite_name", value: suiteName)
        return [
            ResultList([], kind: ""), ResultList([m], kind: "model"), ResultList([e], kind: "engine"),
            ResultList([m, e], kind: "model+engine"), ResultList([s], kind: "suite_name"),
            ResultList([m, s], kind: "model+suite_name"), ResultList([e, s], kind: "engine+suite_name"),
            ResultList([m, e, s], kind: "model+engine+suite_name"),
        ]
    }

    /// `"<column> = ? AND ..."` with its bindings, or nothing for all runs.
    var condition: (sql: String, bindings: [SQLiteValue]) {
        (filters.map { "\($0.column) = ? AND " }.joined(), filters.map { .text($0.value) })
    }
    /// The table to walk: the three-column list walks the (model, engine) index, which holds
    /// `suite_name` (schema v9), rather than one that would read each skipped row.
    var table: String { filters.count == 3 ? "runs INDEXED BY runs_model_engine_time" : "runs" }

    var whereClause: (sql: String, bindings: [SQLiteValue]) {
        filters.isEmpty
            ? ("", [])
            : (" WHERE " + filters.map { "\($0.column) = ?" }.joined(separator: " AND "), filters.map { .text($0.value) })
    }
}

/// Where a chunk starts in its list: a run's (timestamp, id) (a row of `run_chunks`), or
/// the head of the list (`ts` the empty BLOB, which sorts after every text, so first in DESC
/// order; its count is the list's row of `run_chunk_heads`, schema v14).
struct ChunkKey: Hashable {
    let ts: SQLiteValue
    let id: String

    static let head = ChunkKey(ts: .blob([]), id: "")
    var isHead: Bool { if case .blob = ts { true } else { false } }
}

/// Finding positions in a list through its chunks, and keeping the chunks.
enum ResultListChunks {
    /// Runs per chunk after a split; a chunk splits when it holds more than twice this.
    /// Any value keeps the answers exact (tests use small ones); it only bounds the work.
    static let capacity = Atomic<Int>(1024)

    /// The chunk of `list` that holds the run at (timestamp, id): the last chunk whose key
    /// is at or before it in list order.
    static func chunk(_ c: Connection, _ list: ResultList, timestamp: String, id: String) throws -> ChunkKey {
        // The keys from the run's timestamp on, in reverse list order (the head's BLOB, after
        // every text, last): the first one that is not after the run. Keys sharing the run's
        // timestamp with a larger id come before it; more than a few of them is rare (over
        // a thousand runs with one timestamp), so a few rows are read in one statement
        // (one lookup instead of two per run and list at every write).
        let window = 4
        var found: ChunkKey?
        var read = 0
        try c.forEachRow(
            "SELECT ts, id FROM run_chunks WHERE kind = ? AND value = ? AND ts >= ? ORDER BY ts, id DESC LIMIT ?",
            [.text(list.kind), .text(list.value), .text(timestamp), SQLiteValue(window)]
        ) { row in
            read += 1
            guard found == nil else { return }
            let key = ChunkKey(ts: row.value(0), id: row.string(1) ?? "")
            if case .text(let ts) = key.ts, compareBytes(ts, timestamp) == 0, compareBytes(key.id, id) > 0 { return }
            found = key.isHead ? .head : key
        }
        if let found { return found }
        if read < window { return .head }
        // Many keys with the run's timestamp: the last of them at or before it, else the
        // last key of the next newer timestamp.
        if let row = try c.queryOne(
            "SELECT id FROM run_chunks WHERE kind = ? AND value = ? AND ts = ? AND id <= ? ORDER BY id DESC LIMIT 1",
            [.text(list.kind), .text(list.value), .text(timestamp), .text(id)]), let anchor = row.string(0)
        {
            return ChunkKey(ts: .text(timestamp), id: anchor)
        }
        if let row = try c.queryOne(
            "SELECT ts, id FROM run_chunks WHERE kind = ? AND value = ? AND ts > ? ORDER BY ts, id DESC LIMIT 1",
            [.text(list.kind), .text(list.value), .text(timestamp)])
        {
            return ChunkKey(ts: row[0], id: row.string(1) ?? "")
        }
        return .head
    }

    /// A run stored (`delta` 1) or deleted (-1), to be counted in its chunk.
    struct Placed {
        let timestamp: String
        let id: String
        let delta: Int
    }

    /// Below this many runs in one list, `place` looks each run's chunk up; from it on, it
    /// reads the list's chunk keys once, in order, against the runs sorted the same way
    /// (a key read costs far less than a lookup, and an import batch brings hundreds).
    /// Either way gives the same chunks (tests use 1 to take the merge every time).
    static let mergeFrom = Atomic<Int>(16)

    /// The chunk deltas of `runs` in `list`: each run counted in `chunk(…)` of it. `runs`
    /// come in list order (see `precedes`).
    static func place(_ c: Connection, _ list: ResultList, _ runs: [Placed]) throws -> [ChunkKey: Int] {
        var deltas: [ChunkKey: Int] = [:]
        guard runs.count >= mergeFrom.load(ordering: .relaxed) else {
            for run in runs {
                deltas[try chunk(c, list, timestamp: run.timestamp, id: run.id), default: 0] += run.delta
            }
            return deltas
        }
        assert(zip(runs, runs.dropFirst()).allSatisfy { !precedes($1.timestamp, $1.id, $0.timestamp, $0.id) })
        // Each run goes to the last key at or before it in list order (the head if none).
        struct Done: Error {}
        var current = ChunkKey.head
        var next = 0
        do {
            try c.forEachRow(
                "SELECT ts, id FROM run_chunks WHERE kind = ? AND value = ? AND ts < x'' ORDER BY ts DESC, id",
                [.text(list.kind), .text(list.value)]
            ) { row in
                let key = ChunkKey(ts: row.value(0), id: row.string(1) ?? "")
                while next < runs.count, isBefore(runs[next].timestamp, runs[next].id, key) {
                    deltas[current, default: 0] += runs[next].delta
                    next += 1
                }
                if next == runs.count { throw Done() }  // the rest of the keys hold none of them
                current = key
            }
        } catch is Done {}
        while next < runs.count {
            deltas[current, default: 0] += runs[next].delta
            next += 1
        }
        return deltas
    }

    /// The runs in the head chunk of `list` (0 when it has no row in `run_chunk_heads`).
    static func headCount(_ c: Connection, _ list: ResultList) throws -> Int {
        try c.queryOne(
            "SELECT count FROM run_chunk_heads WHERE kind = ? AND value = ?", [.text(list.kind), .text(list.value)]
        )?.int(0) ?? 0
    }

    /// The runs in the head chunk of `list`, and the first chunk key after the head (a
    /// run's key), or nil when it has none.
    static func head(_ c: Connection, _ list: ResultList) throws -> (count: Int, newest: ChunkKey?) {
        let newest = try c.queryOne(
            "SELECT ts, id FROM run_chunks WHERE kind = ? AND value = ? ORDER BY ts DESC, id LIMIT 1",
            [.text(list.kind), .text(list.value)]
        ).map { ChunkKey(ts: $0[0], id: $0.string(1) ?? "") }
        return (try headCount(c, list), newest)
    }

    /// Whether the run (timestamp, id) comes before `key` in list order (always, for nil):
    /// then it is in the head chunk.
    static func isBefore(_ timestamp: String, _ id: String, _ key: ChunkKey?) -> Bool {
        guard let key, case .text(let ts) = key.ts else { return true }
        let time = compareBytes(timestamp, ts)
        return time == 0 ? compareBytes(id, key.id) < 0 : time > 0
    }

    /// Whether run a comes before run b in list order: timestamp DESC, then id (bytes, as
    /// SQLite's BINARY collation).
    static func precedes(_ aTimestamp: String, _ aID: String, _ bTimestamp: String, _ bID: String) -> Bool {
        let time = compareBytes(aTimestamp, bTimestamp)
        return time == 0 ? compareBytes(aID, bID) < 0 : time > 0
    }

    /// -1, 0 or 1 as the UTF-8 bytes of `a` sort before, equal or after those of `b`: how
    /// SQLite compares TEXT (BINARY collation, memcmp). Runs once per run and list at every
    /// write, so with `memcmp` rather than the generic comparison of two UTF8Views.
    static func compareBytes(_ a: String, _ b: String) -> Int {
        var a = a
        var b = b
        return a.withUTF8 { x in
            b.withUTF8 { y in
                let common = min(x.count, y.count)
                if common > 0, let p = x.baseAddress, let q = y.baseAddress {
                    let order = memcmp(p, q, common)
                    if order != 0 { return order < 0 ? -1 : 1 }
                }
                return x.count == y.count ? 0 : (x.count < y.count ? -1 : 1)
            }
        }
    }

    /// Runs `body` on the rows of `list` from the start of chunk `from` (inclusive), after
    /// skipping `skip` of them, at most `limit`; `columns` is a fixed column list. Returns the
    /// number of rows given to `body`. Costs O(skip + limit) index steps.
    @discardableResult
    static func walk(
        _ c: Connection, _ list: ResultList, from start: ChunkKey, skip: Int, limit: Int, columns: String,
        _ body: (borrowing RowCursor) throws -> Void
    ) throws -> Int {
        guard limit > 0 else { return 0 }
        var delivered = 0
        let sql = WalkSQL(list, columns: columns)
        if start.isHead {
            let (_, bindings) = list.whereClause
            try c.forEachRow(
                sql.head,
                bindings + [SQLiteValue(limit), SQLiteValue(skip)]
            ) { row in
                delivered += 1
                try body(row)
            }
            return delivered
        }
        let (_, bindings) = list.condition
        // First the runs with the chunk's own timestamp, from its id on...
        let sameTime = bindings + [start.ts, .text(start.id)]
        try c.forEachRow(
            sql.sameTime,
            sameTime + [SQLiteValue(limit), SQLiteValue(skip)]
        ) { row in
            delivered += 1
            try body(row)
        }
        if delivered == limit { return delivered }
        // ...then every older timestamp, skipping what the first part did not cover.
        var rest = 0
        if delivered == 0, skip > 0 {
            let before = try c.queryOne(
                sql.countSameTime,
                sameTime + [SQLiteValue(skip)])?.int(0) ?? 0
            rest = skip - before
        }
        try c.forEachRow(
            sql.older,
            bindings + [start.ts, SQLiteValue(limit - delivered), SQLiteValue(rest)]
        ) { row in
            delivered += 1
            try body(row)
        }
        return delivered
    }

    /// The statements of `walk` (bindings: the list's values, then as `walk` passes them).
    struct WalkSQL {
        /// The head chunk: from the start of the list.
        let head: String
        /// Inside a chunk: the runs with its timestamp from its id on, how many of those
        /// there are (up to a limit), then the older ones.
        let sameTime: String
        let countSameTime: String
        let older: String

        init(_ list: ResultList, columns: String) {
            let (clause, _) = list.whereClause
            let (condition, _) = list.condition
            head = "SELECT \(columns) FROM \(list.table)\(clause) ORDER BY timestamp DESC, id LIMIT ? OFFSET ?"
            sameTime = "SELECT \(columns) FROM \(list.table) WHERE \(condition)timestamp = ? AND id >= ? ORDER BY id LIMIT ? OFFSET ?"
            countSameTime = "SELECT COUNT(*) FROM (SELECT 1 FROM \(list.table) WHERE \(condition)timestamp = ? AND id >= ? LIMIT ?)"
            older = "SELECT \(columns) FROM \(list.table) WHERE \(condition)timestamp < ? ORDER BY timestamp DESC, id LIMIT ? OFFSET ?"
        }

        var all: [String] { [head, sameTime, countSameTime, older] }
    }

    /// The chunk holding position `offset` (0-based) of `list`, and the position it starts at.
    /// Nil when the list has no more than `offset` runs.
    static func locate(_ c: Connection, _ list: ResultList, offset: Int) throws -> (chunk: ChunkKey, start: Int)? {
        struct Found: Error { let chunk: ChunkKey; let start: Int }
        var before = try headCount(c, list)
        if offset < before { return (.head, 0) }
        do {
            try c.forEachRow(
                "SELECT ts, id, count FROM run_chunks WHERE kind = ? AND value = ? ORDER BY ts DESC, id",
                [.text(list.kind), .text(list.value)]
            ) { row in
                let count = row.int(2) ?? 0
                if offset < before + count {
                    throw Found(chunk: ChunkKey(ts: row.value(0), id: row.string(1) ?? ""), start: before)
                }
                before += count
            }
        } catch let found as Found {  // stops the scan at the chunk
            return (found.chunk, found.start)
        }
        return nil
    }

    /// Adds `deltas` (runs in or out, per chunk) and splits chunks grown past twice the
    /// capacity. Inside the write transaction that stored or deleted those runs.
    ///
    /// `headCounts`: the runs in a list's head chunk before these deltas (read in this
    /// transaction), where known. A head that only grows then needs no count read back:
    /// agents' reports all land in the head, and reading counts back (`RETURNING`) cost
    /// about as much as the upsert.
    /// `capacity`: the runs per chunk after a split (default: `ResultListChunks.capacity`).
    static func apply(
        _ c: Connection, _ deltas: [ResultList: [ChunkKey: Int]], headCounts: [ResultList: Int] = [:],
        capacity: Int = max(1, ResultListChunks.capacity.load(ordering: .relaxed))
    ) throws {
        var rows: [[SQLiteValue]] = []
        // Heads (`run_chunk_heads`): grown with a known count before, or any other change.
        var grownHeads: [[SQLiteValue]] = []
        var otherHeads: [[SQLiteValue]] = []
        var headSplits: [(list: ResultList, count: Int)] = []
        var lists: [ListName: ResultList] = [:]
        for (list, chunks) in deltas {
            lists[ListName(kind: list.kind, value: list.value)] = list
            for (key, delta) in chunks where delta != 0 {
                if key.isHead {
                    let row: [SQLiteValue] = [.text(list.kind), .text(list.value), SQLiteValue(delta)]
                    if delta > 0, let before = headCounts[list] {
                        grownHeads.append(row)
                        if before + delta > 2 * capacity { headSplits.append((list, before + delta)) }
                    } else {
                        otherHeads.append(row)
                    }
                } else {
                    rows.append([.text(list.kind), .text(list.value), key.ts, .text(key.id), SQLiteValue(delta)])
                }
            }
        }
        try SummaryUpsert.heads.apply(c, grownHeads)
        for (list, count) in headSplits {
            try split(c, list, .head, count: count, capacity: capacity)
        }
        // An emptied chunk is deleted: its range joins the chunk before it (or the head,
        // which is implicit). Splitting one chunk leaves the others' ranges as they are.
        for (key, count) in try SummaryUpsert.heads.apply(c, otherHeads, countsOfGrowths: true) where count > 2 * capacity {
            guard case .text(let kind) = key[0], case .text(let value) = key[1],
                let list = lists[ListName(kind: kind, value: value)]
            else { continue }
            try split(c, list, .head, count: count, capacity: capacity)
        }
        for (key, count) in try SummaryUpsert.chunks.apply(c, rows, countsOfGrowths: true) where count > 2 * capacity {
            guard case .text(let kind) = key[0], case .text(let value) = key[1], case .text(let id) = key[3] else {
                continue
            }
            guard let list = lists[ListName(kind: kind, value: value)] else { continue }
            try split(c, list, ChunkKey(ts: key[2], id: id), count: count, capacity: capacity)
        }
    }

    private struct ListName: Hashable { let kind: String; let value: String }

    /// Cuts a chunk of `count` runs into chunks of `capacity` (the last one gets the rest).
    private static func split(_ c: Connection, _ list: ResultList, _ key: ChunkKey, count: Int, capacity: Int) throws {
        var start = key
        var remaining = count
        while remaining > 2 * capacity {
            var next: ChunkKey?
            try walk(c, list, from: start, skip: capacity, limit: 1, columns: "timestamp, id") { row in
                next = ChunkKey(ts: .text(row.string(0) ?? ""), id: row.string(1) ?? "")
            }
            guard let next else { return }  // counts disagree with the rows: leave it whole
            if start.isHead {
                try c.run(
                    "UPDATE run_chunk_heads SET count = ? WHERE kind = ? AND value = ?",
                    [SQLiteValue(capacity), .text(list.kind), .text(list.value)])
            } else {
                try c.run(
                    "UPDATE run_chunks SET count = ? WHERE kind = ? AND value = ? AND ts = ? AND id = ?",
                    [SQLiteValue(capacity), .text(list.kind), .text(list.value), start.ts, .text(start.id)])
            }
            remaining -= capacity
            try c.run(
                "INSERT INTO run_chunks (kind, value, ts, id, count) VALUES (?, ?, ?, ?, ?)",
                [.text(list.kind), .text(list.value), next.ts, .text(next.id), SQLiteValue(remaining)])
            start = next
        }
    }
}

/// The heads of the lists (`ResultListChunks.head`) as committed, kept by the writer
/// connection between transactions (`Connection.state`): an agent's report touches its eight
/// lists, and looking their heads up was ~70k instructions of a durable POST. Valid while no
/// other connection commits (`Connection.dataVersion`, checked at every flush); a flush
/// changes it only after its transaction commits (`ResultSummaryChanges.didCommit`).
final class ListHeadCache {
    /// Lists kept at most (~200 bytes each); past it the cache starts over.
    static let limit = 16_384
    /// A list whose value is longer than this is not kept (its head is read each time), so
    /// the cache's memory stays bounded whatever names clients give their models.
    static let maxKeptValueBytes = 1_024

    private var dataVersion: Int?
    private var heads: [ResultList: (count: Int, newest: ChunkKey?)] = [:]

    /// Drops everything when another connection committed since the last call.
    func validate(dataVersion version: Int) {
        if version != dataVersion {
            heads.removeAll()
            dataVersion = version
        }
    }

    subscript(list: ResultList) -> (count: Int, newest: ChunkKey?)? {
        get { heads[list] }
        set {
            guard list.value.utf8.count <= Self.maxKeptValueBytes else { return }
            if newValue != nil, heads[list] == nil, heads.count >= Self.limit { heads.removeAll() }
            heads[list] = newValue
        }
    }

    var count: Int { heads.count }
}

/// The eight lists of each set seen, kept by the writer connection between transactions
/// (`Connection.state`): the same few sets come back batch after batch, and making a set's
/// lists (eight values, their names and hashes) was ~3 % of the writer's work per report.
/// Lists depend on nothing but the set, so nothing invalidates them. Past `limit` sets the
/// cache starts over; a set whose names are long is not kept (its lists are made each time),
/// so the memory stays bounded whatever names clients send (~6 KB a set at most).
final class ListsOfSets {
    static let limit = 1_024
    static let maxKeptNameBytes = 1_024

    private struct Key: Hashable { let model: String; let engine: String; let suiteName: String }
    private var lists: [Key: [ResultList]] = [:]

    var count: Int { lists.count }

    func lists(model: String, engine: String, suiteName: String) -> [ResultList] {
        let key = Key(model: model, engine: engine, suiteName: suiteName)
        if let known = lists[key] { return known }
        let made = ResultList.lists(model: model, engine: engine, suiteName: suiteName)
        guard model.utf8.count + engine.utf8.count + suiteName.utf8.count <= Self.maxKeptNameBytes else { return made }
        if lists.count >= Self.limit { lists.removeAll() }
        lists[key] = made
        return made
    }
}
