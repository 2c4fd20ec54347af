import Foundation
import Synchronization
import Glibc
import KittPostgres
import KittTestSupport
import Testing

@Suite(.enabled(if: PostgresServer.isAvailable, "\(PostgresServer.unavailableReason ?? "")"))
struct PostgresConnectionTests {
    @Test func parameterizedQueriesRoundTripTypedValues() throws {
        let c = try PostgresConnection(try PostgresServer.freshDatabase())
        try c.execute("CREATE TABLE t (i bigint, d double precision, s text, b boolean, y bytea)")
        let text = "héllo 'quoted' $1 \\ ✓"
        try c.run(
            "INSERT INTO t VALUES ($1, $2, $3, $4, $5)",
            [.integer(Int64.min), .double(1e308), .text(text), .bool(true), .bytea([0, 1, 0xFF])])
        try c.run("INSERT INTO t VALUES ($1, $2, $3, $4, $5)", [nil, .double(.nan), "", false, .bytea([])])
        let rows = try c.query("SELECT i, d, s, b, y FROM t ORDER BY i NULLS LAST").rows
        #expect(rows.count == 2)
        #expect(rows[0].int64(0) == Int64.min)
        #expect(rows[0].double(1) == 1e308)
        #expect(rows[0].string(2) == text)
        #expect(rows[0].bool(3) == true)
        #expect(rows[0].bytes(4) == [0, 1, 0xFF])
        #expect(rows[0].string("s") == text)
        #expect(rows[1].isNull(0))
        #expect(rows[1].int(0) == nil)
        #expect(rows[1].double(1)?.isNaN == true)
        #expect(rows[1].string(2) == "")
        #expect(rows[1].bool(3) == false)
        #expect(rows[1].bytes(4) == [])
        // Odd reads give nil, never a trap.
        #expect(rows[0].int(99) == nil)
        #expect(rows[0].int(2) == nil)
        #expect(rows[0].string("nope") == nil)
        #expect(try c.queryOne("SELECT 'Infinity'::float8, '-Infinity'::float8, 9223372036854775807::numeric + 1")
            .map { [$0.double(0), $0.double(1)] } == [.infinity, -.infinity])
        #expect(try c.queryOne("SELECT 9223372036854775807::numeric + 1")?.int64(0) == nil)
    }

    @Test func errorsCarrySQLStateAndMessageAndTransactionsRollBack() throws {
        let c = try PostgresConnection(try PostgresServer.freshDatabase())
        try c.execute("CREATE TABLE u (k text PRIMARY KEY)")
        try c.run("INSERT INTO u VALUES ($1)", ["a"])
        let duplicate = #expect(throws: PostgresError.self) { try c.run("INSERT INTO u VALUES ($1)", ["a"]) }
        #expect(duplicate?.sqlState == "23505")
        #expect(duplicate?.isUniqueViolation == true)
        #expect(duplicate?.description.contains("INSERT INTO u") == true)
        let syntax = #expect(throws: PostgresError.self) { try c.query("SELEKT 1") }
        #expect(syntax?.sqlState == "42601")

        struct Abort: Error {}
        #expect(throws: Abort.self) {
            try c.transaction { tx in
                try tx.run("INSERT INTO u VALUES ($1)", ["b"])
                throw Abort()
            }
        }
        #expect(!c.isInTransaction)
        let n = try c.transaction { tx in
            try tx.run("INSERT INTO u VALUES ($1), ($2)", ["c", "d"])
        }
        #expect(n == 2)
        #expect(try c.query("SELECT k FROM u ORDER BY k").rows.map { $0.string(0) } == ["a", "c", "d"])
        // A NUL in text is refused before it reaches the server.
        let nul = #expect(throws: PostgresError.self) { try c.run("INSERT INTO u VALUES ($1)", ["x\u{0}y"]) }
        #expect(nul?.message.contains("NUL") == true)
    }

    @Test func passwordComesFromURLPassfileOrPGPASSWORDAndIsNeverPrinted() throws {
        let server = try PostgresServer.get()
        _ = try PostgresServer.freshDatabase()
        // Wrong password: a clear error that names the URL without the password.
        let wrong = "s3cret-\(UInt32.random(in: 0...UInt32.max))"
        let info = try ConnectionInfo(server.url(database: "postgres", password: wrong))
        #expect(!info.description.contains(wrong))
        #expect(info.description.contains("kitt:***@127.0.0.1"))
        let failure = #expect(throws: PostgresError.self) { try PostgresConnection(info) }
        #expect(failure?.isConnectionFailure == true)
        #expect(failure?.message.contains("password authentication failed") == true)
        #expect(failure?.description.contains(wrong) == false)

        // No password in the URL: libpq reads the pgpass file (passfile= is the PGPASSFILE option).
        let passfile = "/tmp/kitt-pgpass-\(getpid())-\(UInt32.random(in: 0...UInt32.max))"
        try "127.0.0.1:\(server.port):*:kitt:\(server.password)\n".write(toFile: passfile, atomically: false, encoding: .utf8)
        chmod(passfile, 0o600)
        defer { unlink(passfile) }
        let viaFile = try PostgresConnection(
            ConnectionInfo(server.url(database: "postgres", password: "") + "?passfile=\(passfile)"))
        #expect(try viaFile.queryOne("SELECT current_user")?.string(0) == "kitt")

        // Nor in a passfile: PGPASSWORD. (Other tests give their password in the URL, which
        // libpq prefers, so setting the variable here does not change what they do.)
        let noPassword = try ConnectionInfo(server.url(database: "postgres", password: "") + "?passfile=/nonexistent")
        #expect(throws: PostgresError.self) { try PostgresConnection(noPassword) }
        setenv("PGPASSWORD", server.password, 1)
        defer { unsetenv("PGPASSWORD") }
        #expect(try PostgresConnection(noPassword).queryOne("SELECT 1")?.int(0) == 1)

        // sslmode is passed through: this server has no TLS, so `require` fails with libpq's reason.
        let tls = #expect(throws: PostgresError.self) {
            try PostgresConnection(ConnectionInfo(server.url(database: "postgres") + "?sslmode=require"))
        }
        #expect(tls?.message.contains("SSL") == true)
        #expect(tls?.description.contains(server.password) == false)
    }

    @Test(arguments: [
        ("postgres://u:hunter2@h:5432/db", "postgres://u:***@h:5432/db"),
        ("postgresql://u:hunter2@h/db?sslmode=require", "postgresql://u:***@h/db?sslmode=require"),
        ("postgres://u@h/db?password=hunter2&sslmode=disable", "postgres://u@h/db?password=***&sslmode=disable"),
        ("host=h user=u password=hunter2 dbname=db", "host=h user=u password=*** dbname=db"),
        ("host=h password='hun ter2' dbname=db", "host=h password=*** dbname=db"),
    ])
    func urlsAreRedacted(url: String, shown: String) throws {
        let info = try ConnectionInfo(url)
        #expect(info.description == shown)
    }

    @Test func badURLIsRejectedWithoutEchoingThePassword() {
        let error = #expect(throws: PostgresError.self) { try ConnectionInfo("postgres://u:hunter2@h/db?bogus=1") }
        #expect(error?.message.contains("bogus") == true)
        #expect(error?.description.contains("hunter2") == false)
    }

    @Test func listenReceivesNotificationsFromAnotherConnection() throws {
        let info = try PostgresServer.freshDatabase()
        let listener = try PostgresConnection(info)
        let sender = try PostgresConnection(info)
        try listener.listen("kitt events")
        #expect(try listener.notifications(timeoutMilliseconds: 50).isEmpty)
        // Inside a transaction: delivered at COMMIT, in order.
        try sender.transaction { tx in
            try tx.notify("kitt events", payload: "one")
            try tx.notify("kitt events", payload: "two")
        }
        var received: [PostgresNotification] = []
        let deadline = Date().addingTimeInterval(10)
        while received.count < 2, Date() < deadline {
            received += try listener.notifications(timeoutMilliseconds: 500)
        }
        #expect(received.map(\.payload) == ["one", "two"])
        #expect(received.allSatisfy { $0.channel == "kitt events" && $0.senderPID == sender.backendPID })
    }

    @Test func poolReusesConnectionsAndDropsBrokenOnes() throws {
        let pool = PostgresPool(try PostgresServer.freshDatabase(), maximum: 2)
        defer { pool.close() }
        let first = try pool.withConnection { $0.backendPID }
        let second = try pool.withConnection { $0.backendPID }
        #expect(first == second)
        #expect(pool.idleCount == 1)
        // The server ends that backend: the next use fails clearly, and the pool drops it.
        try pool.withConnection { other in
            _ = try PostgresConnection(other.info).query("SELECT pg_terminate_backend($1)", [.integer(Int64(first))])
        }
        let lost = #expect(throws: PostgresError.self) { try pool.withConnection { try $0.query("SELECT 1") } }
        #expect(lost?.isConnectionFailure == true)
        #expect(try pool.withConnection { $0.backendPID } != first)
        // Concurrent users beyond `maximum` wait for a free connection rather than failing.
        let group = DispatchGroup()
        let failures = Mutex(0)
        for _ in 0..<6 {
            DispatchQueue(label: "pool-user").async(group: group) {
                do { try pool.withConnection { try $0.query("SELECT pg_sleep(0.05)") } } catch {
                    failures.withLock { $0 += 1 }
                }
            }
        }
        #expect(group.wait(timeout: .now() + 30) == .success)
        #expect(failures.withLock { $0 } == 0)
        #expect(pool.idleCount <= 2)
    }
}
