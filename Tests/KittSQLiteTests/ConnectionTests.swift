import KittSQLite
import Testing

/// Values, rows, statements and errors: one `Connection` at a time.
@Suite struct ConnectionTests {
    @Test func everyValueTypeRoundTrips() throws {
        var megabyte = [UInt8](repeating: 0, count: 1 << 20)
        var seed: UInt64 = 0x9E37_79B9_7F4A_7C15
        for i in megabyte.indices {
            seed = seed &* 6_364_136_223_846_793_005 &+ 1_442_695_040_888_963_407
            megabyte[i] = UInt8(truncatingIfNeeded: seed >> 33)
        }
        let values: [SQLiteValue] = [
            .null, .integer(0), .integer(Int64.max), .integer(Int64.min), .real(3.25), .real(-0.0), .real(1e-300),
            .text(""), .text("plain"), .text("x\0y"), .text("\0\0"), .text("ünïcödé ✓ 🚗"),
            .blob([]), .blob([0, 1, 0, 255]), .blob(megabyte),
        ]
        try withDatabase { db, _ in
            try db.write { c in
                try c.execute("CREATE TABLE t (id INTEGER PRIMARY KEY, v)")
                for (i, v) in values.enumerated() { try c.run("INSERT INTO t (id, v) VALUES (?, ?)", [SQLiteValue(i), v]) }
            }
            let rows = try db.read { try $0.query("SELECT v FROM t ORDER BY id") }
            #expect(rows.map { $0[0] } == values)
            #expect(rows[9].string(0)?.utf8.count == 3)
            #expect(rows[12].blob(0) == [])  // an empty blob stays a blob, not NULL

            // The streaming cursor reads the same values in place.
            var streamed: [SQLiteValue] = []
            var nulText: [UInt8] = []
            try db.read { c in
                try c.forEachRow("SELECT v, id FROM t ORDER BY id", []) { row in
                    streamed.append(row.value(0))
                    if row.int(1) == 9 { nulText = row.withUnsafeBytes(0) { [UInt8]($0) } }
                }
            }
            #expect(streamed == values)
            #expect(nulText == [UInt8(ascii: "x"), 0, UInt8(ascii: "y")])

            // Bound text with a NUL compares equal in SQL too (not cut at the NUL).
            let hit = try db.read { try $0.queryOne("SELECT id FROM t WHERE v = ?", ["x\0y"])?.int(0) }
            #expect(hit == 9)
        }
    }

    @Test func nullsAndColumnsByName() throws {
        try withDatabase { db, _ in
            let row = try #require(
                try db.read {
                    try $0.queryOne("SELECT NULL AS nada, 42 AS answer, 'hi' AS Greeting, 1.5 AS ratio, 0 AS off, x'0102' AS raw")
                })
            #expect(row.columnNames == ["nada", "answer", "Greeting", "ratio", "off", "raw"])
            #expect(row["nada"] == .null)
            #expect(row.string("nada") == nil && row.int("nada") == nil && row.double("nada") == nil)
            #expect(row.bool("nada") == nil && row.blob("nada") == nil)
            #expect(row.int("answer") == 42 && row.int64("answer") == 42 && row.double("answer") == 42)
            #expect(row.string("answer") == nil)  // no guessing between storage classes
            #expect(row.string("Greeting") == "hi" && row.string("greeting") == "hi")  // SQL names ignore case
            #expect(row.double("ratio") == 1.5 && row.int("ratio") == nil)
            #expect(row.bool("off") == false && row.bool("answer") == true)
            #expect(row.blob("raw") == [1, 2])
            #expect(row[1] == 42)

            try db.write { c in
                try c.execute("CREATE TABLE t (a TEXT, b INTEGER)")
                try c.run("INSERT INTO t VALUES (?, ?)", [SQLiteValue(nil as String?), SQLiteValue(nil as Int?)])
                try c.run("INSERT INTO t VALUES (?, ?)", [SQLiteValue("s" as String?), SQLiteValue(true)])
            }
            let rows = try db.read { try $0.query("SELECT a, b FROM t ORDER BY rowid") }
            #expect(rows[0][0] == .null && rows[0][1] == .null)
            #expect(rows[1].string("a") == "s" && rows[1].bool("b") == true && rows[1]["b"] == .integer(1))
            #expect(try db.read { try $0.query("SELECT a FROM t WHERE a IS NULL") }.count == 1)
        }
    }

    @Test func sameStatementRunsManyTimes() throws {
        try withDatabase { db, _ in
            try db.write { c in
                try c.execute("CREATE TABLE t (n INTEGER NOT NULL)")
                let cachedBefore = c.cachedStatementCount
                for n in 0..<2_000 { #expect(try c.run("INSERT INTO t (n) VALUES (?)", [SQLiteValue(n)]) == 1) }
                #expect(c.cachedStatementCount == cachedBefore + 1)  // prepared once
                #expect(c.lastInsertRowID == 2_000)
            }
            try db.read { c in
                for n in [0, 999, 1_999] {
                    #expect(try c.queryOne("SELECT n FROM t WHERE n = ?", [SQLiteValue(n)])?.int(0) == n)
                }
                #expect(try c.queryOne("SELECT n FROM t WHERE n = ?", [-1]) == nil)
                #expect(try c.queryOne("SELECT SUM(n) FROM t")?.int(0) == 1_999 * 2_000 / 2)

                // The same SQL from inside a forEachRow body must not reset the outer iteration.
                var pairs = 0
                try c.forEachRow("SELECT n FROM t WHERE n < ?", [3]) { outer in
                    let n = outer.int(0) ?? -1
                    try c.forEachRow("SELECT n FROM t WHERE n < ?", [3]) { _ in pairs += 1 }
                    #expect((0..<3).contains(n))
                }
                #expect(pairs == 9)

                // A throwing body stops the iteration and leaves the statement reusable.
                var seen = 0
                #expect(throws: Boom.self) {
                    try c.forEachRow("SELECT n FROM t", []) { _ in
                        seen += 1
                        if seen == 5 { throw Boom() }
                    }
                }
                #expect(seen == 5)
                var all = 0
                try c.forEachRow("SELECT n FROM t", []) { _ in all += 1 }
                #expect(all == 2_000)
            }
        }
    }

    @Test func cachedStatementFollowsSchemaChanges() throws {
        try withDatabase { db, _ in
            try db.write { c in
                try c.execute("CREATE TABLE t (a)")
                try c.run("INSERT INTO t VALUES (1)")
                #expect(try c.queryOne("SELECT * FROM t")?.columnNames == ["a"])
                try c.execute("ALTER TABLE t ADD COLUMN b DEFAULT 2")
                let row = try c.queryOne("SELECT * FROM t")  // same cached statement, re-prepared by SQLite
                #expect(row?.columnNames == ["a", "b"])
                #expect(row?.int("b") == 2)
            }
        }
    }

    @Test func bindCountMismatchAndBadSQLThrow() throws {
        try withDatabase { db, _ in
            try db.write { c in
                try c.execute("CREATE TABLE t (a, b)")
                let tooFew = #expect(throws: SQLiteError.self) { try c.run("INSERT INTO t VALUES (?, ?)", [1]) }
                #expect(tooFew?.message.contains("expects 2") == true)
                #expect(tooFew?.sql == "INSERT INTO t VALUES (?, ?)")
                #expect(throws: SQLiteError.self) { try c.run("INSERT INTO t VALUES (?, ?)", [1, 2, 3]) }
                #expect(throws: SQLiteError.self) { try c.query("SELECT * FROM missing") }
                #expect(throws: SQLiteError.self) { try c.execute("NOT SQL AT ALL") }
                // run/query take one statement; a second one would silently never run.
                #expect(throws: SQLiteError.self) { try c.run("INSERT INTO t VALUES (1, 2); DELETE FROM t") }
                try c.run("INSERT INTO t VALUES (1, 2); -- trailing comment is fine")
                #expect(try c.queryOne("SELECT COUNT(*) FROM t")?.int(0) == 1)
            }
        }
    }

    @Test func constraintViolationIsReportedWithoutArguments() throws {
        try withDatabase { db, _ in
            try db.write { c in try c.execute("CREATE TABLE users (email TEXT UNIQUE NOT NULL, token TEXT)") }
            try db.write { c in try c.run("INSERT INTO users VALUES (?, ?)", ["a@example.org", "s3cret-token"]) }
            let error = #expect(throws: SQLiteError.self) {
                try db.write { c in try c.run("INSERT INTO users VALUES (?, ?)", ["a@example.org", "s3cret-token"]) }
            }
            #expect(error?.isConstraintViolation == true)
            #expect(error?.isBusy == false)
            #expect(error?.code == 19 && error?.extendedCode == 2067)  // SQLITE_CONSTRAINT_UNIQUE
            #expect(error?.description.contains("UNIQUE") == true)
            #expect(error?.description.contains("s3cret") == false)
            #expect(error?.description.contains("example.org") == false)

            let notNull = #expect(throws: SQLiteError.self) {
                try db.write { c in try c.run("INSERT INTO users VALUES (NULL, NULL)") }
            }
            #expect(notNull?.isConstraintViolation == true && notNull?.extendedCode == 1299)  // _NOTNULL
            #expect(try count(db, "users") == 1)
        }
    }
}
