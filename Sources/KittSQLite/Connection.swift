internal import CSQLite

/// One `sqlite3*` handle.
///
/// Not Sendable: a connection lives inside `Database` and is only reached through the
/// non-escaping closures of `Database.read`/`write` (or as the parameter of a
/// `writeAsync` body), so the compiler keeps it on the thread that borrowed it. The
/// handle is opened in multi-thread mode (`SQLITE_OPEN_NOMUTEX`), which is only safe
/// because of exactly that confinement (see `Database`).
public final class Connection {
    private var handle: OpaquePointer?
    private var statements: [String: Statement] = [:]
    /// Written by the WAL hook (see `trackWALFrames`): frames in the WAL after the last commit.
    private var walFrames: UnsafeMutablePointer<Int32>?
    /// Bound on cached statements, so SQL built at run time cannot grow the cache forever.
    private static let statementCacheLimit = 256
    /// The open transaction's accumulators (see `CommitAccumulator`): the outermost scope
    /// first, then one per `writeAsync` body being run.
    private var accumulatorScopes: [AccumulatorScope] = []
    /// State kept with this connection across transactions (see `state(_:make:)`).
    private var states: [ObjectIdentifier: AnyObject] = [:]

    init(path: String, flags: Int32) throws(SQLiteError) {
        var db: OpaquePointer?
        let rc = sqlite3_open_v2(path, &db, flags, nil)
        guard rc == SQLITE_OK, let db else {
            let error = SQLiteError(db: db, resultCode: rc, sql: nil)
            sqlite3_close_v2(db)  // a handle is usually allocated even when open fails
            throw error
        }
        handle = db
        sqlite3_extended_result_codes(db, 1)
    }

    deinit { close() }

    /// Finalizes every cached statement and closes the handle. Idempotent; later calls throw.
    func close() {
        statements.removeAll()  // Statement.deinit finalizes
        if let handle { sqlite3_close_v2(handle) }
        handle = nil
        walFrames?.deallocate()
        walFrames = nil
    }

    // MARK: - WAL and checkpoints (the writer only)

    /// Counts the frames in the WAL after each commit on this connection, and with that
    /// turns SQLite's automatic checkpoint off: the caller checkpoints (`checkpoint()`).
    func trackWALFrames() throws(SQLiteError) {
        let db = try db()
        if walFrames == nil {
            walFrames = .allocate(capacity: 1)
            walFrames?.initialize(to: 0)
        }
        kitt_sqlite_track_wal_frames(db, walFrames)
    }

    /// Frames in the WAL after the last commit (0 until the first, or without tracking).
    var walFrameCount: Int { walFrames.map { Int($0.pointee) } ?? 0 }

    /// A PASSIVE checkpoint: copies the WAL frames no reader still needs into the database
    /// file (and syncs it), without waiting for anyone. Returns the frames in the WAL and
    /// how many of them are now in the database file.
    func checkpoint() throws(SQLiteError) -> (log: Int, checkpointed: Int) {
        let db = try db()
        var log: Int32 = 0
        var checkpointed: Int32 = 0
        let rc = sqlite3_wal_checkpoint_v2(db, nil, SQLITE_CHECKPOINT_PASSIVE, &log, &checkpointed)
        guard rc == SQLITE_OK else { throw SQLiteError(db: db, resultCode: rc, sql: "PRAGMA wal_checkpoint(PASSIVE)") }
        return (Int(log), Int(checkpointed))
    }

    func db() throws(SQLiteError) -> OpaquePointer {
        guard let handle else { throw .databaseClosed }
        return handle
    }

    /// Runs SQL text that may hold several statements, without parameters (schema, PRAGMAs).
    public func execute(_ sql: String) throws(SQLiteError) {
        let db = try db()
        var errorMessage: UnsafeMutablePointer<CChar>?
        let rc = sqlite3_exec(db, sql, nil, nil, &errorMessage)
        defer { sqlite3_free(errorMessage) }
        guard rc == SQLITE_OK else {
            let message = errorMessage.map { String(cString: $0) } ?? String(cString: sqlite3_errstr(rc))
            throw SQLiteError(code: rc, extendedCode: sqlite3_extended_errcode(db), message: message, sql: sql)
        }
    }

    /// Runs one statement to completion and returns the number of rows it changed.
    @discardableResult
    public func run(_ sql: String, _ bindings: [SQLiteValue] = []) throws(SQLiteError) -> Int {
        let db = try db()
        try withStatement(sql, bindings) { (statement: OpaquePointer) throws(SQLiteError) in
            while try step(statement, sql) {}
        }
        return Int(sqlite3_changes64(db))
    }

    public func query(_ sql: String, _ bindings: [SQLiteValue] = []) throws(SQLiteError) -> [Row] {
        try withStatement(sql, bindings) { (statement: OpaquePointer) throws(SQLiteError) in
            let columns = ColumnNames(statement: statement)
            var rows: [Row] = []
            while try step(statement, sql) {
                rows.append(Self.row(statement, columns))
            }
            return rows
        }
    }

    /// The first row, or nil. Stops stepping after it.
    public func queryOne(_ sql: String, _ bindings: [SQLiteValue] = []) throws(SQLiteError) -> Row? {
        try withStatement(sql, bindings) { (statement: OpaquePointer) throws(SQLiteError) in
            try step(statement, sql) ? Self.row(statement, ColumnNames(statement: statement)) : nil
        }
    }

    /// Streams the result rows through `body` without materializing them. Rethrows what
    /// `body` throws (and stops), or a `SQLiteError`.
    public func forEachRow(
        _ sql: String, _ bindings: [SQLiteValue] = [], _ body: (borrowing RowCursor) throws -> Void
    ) throws {
        // Prepare and bind with the typed-throws path, then iterate with untyped throws.
        let statement = try checkOut(sql)
        defer { checkIn(statement) }
        statement.holdsLargeValue = true  // until bound in full: a bind that throws leaves it to clear
        statement.holdsLargeValue = try bind(statement.pointer, bindings, sql)
        let cursor = RowCursor(statement: statement.pointer, columns: ColumnNames(statement: statement.pointer))
        while try step(statement.pointer, sql) {
            try body(cursor)
        }
    }

    public var lastInsertRowID: Int64 { handle.map { sqlite3_last_insert_rowid($0) } ?? 0 }

    /// Rows inserted, updated or deleted by every statement this connection has completed
    /// (triggers' included): unchanged across a call that changed nothing.
    public var totalChanges: Int { handle.map { Int(sqlite3_total_changes64($0)) } ?? 0 }

    /// Number of prepared statements in this connection's cache (diagnostics, tests).
    public var cachedStatementCount: Int { statements.count }

    /// False between BEGIN and COMMIT/ROLLBACK.
    public var isAutocommit: Bool { handle.map { sqlite3_get_autocommit($0) != 0 } ?? true }

    // MARK: - Commit accumulators (the writer only)

    /// The current transaction's accumulator of type `A`, created on first use.
    public func accumulator<A: CommitAccumulator>(_ type: A.Type) -> A {
        if accumulatorScopes.isEmpty { accumulatorScopes.append(AccumulatorScope()) }
        let key = ObjectIdentifier(type)
        let last = accumulatorScopes.count - 1
        if let found = accumulatorScopes[last].find(key) as? A { return found }
        let fresh = A()
        accumulatorScopes[last].add(key, fresh)
        return fresh
    }

    /// Every accumulator of type `A` the transaction holds so far, outermost scope first:
    /// what this body and the earlier bodies of its transaction have yet to flush.
    public func pendingAccumulators<A: CommitAccumulator>(_ type: A.Type) -> [A] {
        accumulatorScopes.compactMap { $0.find(ObjectIdentifier(type)) as? A }
    }

    /// Opens a nested scope (a `writeAsync` body in its savepoint).
    func beginAccumulatorScope() {
        if accumulatorScopes.isEmpty { accumulatorScopes.append(AccumulatorScope()) }
        accumulatorScopes.append(AccumulatorScope())
    }

    /// Closes the innermost scope: its accumulators join the enclosing scope when `keep`,
    /// else they are dropped (the body's savepoint was rolled back).
    func endAccumulatorScope(keep: Bool) {
        guard accumulatorScopes.count >= 2, let inner = accumulatorScopes.popLast() else { return }
        if keep { accumulatorScopes[accumulatorScopes.count - 1].absorb(inner) }
    }

    /// Flushes every accumulator of the transaction (before COMMIT), forgets them and
    /// returns them (for `didCommit` once COMMIT has succeeded).
    func flushAccumulators() throws -> [any CommitAccumulator] {
        let flushed = accumulatorScopes.flatMap { $0.items.map(\.value) }
        accumulatorScopes = []
        for accumulator in flushed { try accumulator.flush(into: self) }
        return flushed
    }

    /// This connection's object of type `S`, made by `make` on first use and kept until the
    /// connection closes: what a caller remembers between its transactions on the writer
    /// (what it remembers must be checked against `dataVersion`: other connections write too).
    public func state<S: AnyObject>(_ type: S.Type, make: () -> S) -> S {
        if let found = states[ObjectIdentifier(type)] as? S { return found }
        let made = make()
        states[ObjectIdentifier(type)] = made
        return made
    }

    /// `PRAGMA data_version` of this connection: changes when another connection (of this
    /// process or another) has committed since this one last looked; its own commits do not
    /// change it.
    public func dataVersion() throws(SQLiteError) -> Int {
        try queryOne("PRAGMA data_version")?.int(0) ?? 0
    }

    /// Forgets the transaction's accumulators (it rolled back).
    func discardAccumulators() { accumulatorScopes = [] }

    // MARK: - Statements

    private func withStatement<R>(
        _ sql: String, _ bindings: [SQLiteValue], _ body: (OpaquePointer) throws(SQLiteError) -> R
    ) throws(SQLiteError) -> R {
        let statement = try checkOut(sql)
        defer { checkIn(statement) }
        statement.holdsLargeValue = true  // until bound in full: a bind that throws leaves it to clear
        statement.holdsLargeValue = try bind(statement.pointer, bindings, sql)
        return try body(statement.pointer)
    }

    /// The cached statement for `sql`, prepared once with SQLITE_PREPARE_PERSISTENT. If it
    /// is already in use (the same SQL run again from inside a `forEachRow` body), a
    /// one-off statement is prepared instead, so the outer iteration is not reset.
    private func checkOut(_ sql: String) throws(SQLiteError) -> Statement {
        if let cached = statements[sql], !cached.inUse {
            cached.inUse = true
            return cached
        }
        let cacheable = statements[sql] == nil
        let statement = try Statement(db: db(), sql: sql, persistent: cacheable)
        if cacheable {
            if statements.count >= Self.statementCacheLimit {
                statements = statements.filter { $0.value.inUse }
            }
            statements[sql] = statement
        }
        statement.inUse = true
        return statement
    }

    /// Resets the statement (ending any read it holds open). Its bound copies of large texts
    /// and blobs (documents) are cleared so they do not stay in memory; small ones stay until
    /// the next call binds every parameter again (clearing them cost ~2k instructions per
    /// statement of a multi-row write, several percent of storing a result).
    private func checkIn(_ statement: Statement) {
        sqlite3_reset(statement.pointer)
        if statement.holdsLargeValue {
            sqlite3_clear_bindings(statement.pointer)
            statement.holdsLargeValue = false
        }
        statement.inUse = false
    }

    /// Texts and blobs from this size on are cleared from a statement after its call.
    static let largeBoundValue = 1024

    /// Binds every parameter; returns whether a text or blob of `largeBoundValue` bytes or
    /// more was bound.
    private func bind(_ statement: OpaquePointer, _ bindings: [SQLiteValue], _ sql: String) throws(SQLiteError) -> Bool {
        var large = false
        let expected = Int(sqlite3_bind_parameter_count(statement))
        guard expected == bindings.count else {
            throw SQLiteError(
                code: SQLITE_RANGE,
                message: "statement expects \(expected) bound argument(s), got \(bindings.count)", sql: sql)
        }
        for (offset, value) in bindings.enumerated() {
            let index = Int32(offset + 1)
            let rc: Int32
            switch value {
            case .null:
                rc = sqlite3_bind_null(statement, index)
            case .integer(let v):
                rc = sqlite3_bind_int64(statement, index, v)
            case .real(let v):
                rc = sqlite3_bind_double(statement, index, v)
            case .text(var s):
                rc = s.withUTF8 { kitt_sqlite_bind_text(statement, index, $0.baseAddress, sqlite3_uint64($0.count)) }
                if s.utf8.count >= Self.largeBoundValue { large = true }
            case .blob(let b):
                rc = b.withUnsafeBytes { kitt_sqlite_bind_blob(statement, index, $0.baseAddress, sqlite3_uint64($0.count)) }
                if b.count >= Self.largeBoundValue { large = true }
            }
            guard rc == SQLITE_OK else { throw SQLiteError(db: handle, resultCode: rc, sql: sql) }
        }
        return large
    }

    /// Steps once: true when a row is ready, false when done.
    private func step(_ statement: OpaquePointer, _ sql: String) throws(SQLiteError) -> Bool {
        switch sqlite3_step(statement) {
        case SQLITE_ROW: return true
        case SQLITE_DONE: return false
        case let rc: throw SQLiteError(db: handle, resultCode: rc, sql: sql)
        }
    }

    private static func row(_ statement: OpaquePointer, _ columns: ColumnNames) -> Row {
        let cursor = RowCursor(statement: statement, columns: columns)
        var values: [SQLiteValue] = []
        values.reserveCapacity(cursor.count)
        for i in 0..<cursor.count { values.append(cursor.value(i)) }
        return Row(values: values, columns: columns)
    }
}

@available(*, unavailable, message: "a Connection stays inside Database's closures")
extension Connection: Sendable {}

/// Owns one `sqlite3_stmt*`; finalizes it in deinit.
private final class Statement {
    let pointer: OpaquePointer
    var inUse = false
    /// A large text or blob is bound (cleared at check-in).
    var holdsLargeValue = false

    init(db: OpaquePointer, sql: String, persistent: Bool) throws(SQLiteError) {
        var statement: OpaquePointer?
        var extra: OpaquePointer?
        let flags = persistent ? UInt32(SQLITE_PREPARE_PERSISTENT) : 0
        let rc = sql.withCString { text in
            var tail: UnsafePointer<CChar>?
            let rc = sqlite3_prepare_v3(db, text, -1, flags, &statement, &tail)
            // Text after the first statement must be only whitespace or comments (which
            // prepare to nothing); a second statement would silently never run.
            if rc == SQLITE_OK, let tail, tail.pointee != 0 {
                sqlite3_prepare_v3(db, tail, -1, 0, &extra, nil)
            }
            return rc
        }
        guard rc == SQLITE_OK else { throw SQLiteError(db: db, resultCode: rc, sql: sql) }
        guard let statement else { throw SQLiteError.misuse("no SQL statement to prepare", sql: sql) }
        guard extra == nil else {
            sqlite3_finalize(extra)
            sqlite3_finalize(statement)
            throw SQLiteError.misuse("run/query take exactly one statement; use execute for several", sql: sql)
        }
        pointer = statement
    }

    deinit { sqlite3_finalize(pointer) }
}
