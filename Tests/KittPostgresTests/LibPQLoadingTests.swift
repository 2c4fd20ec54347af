@testable import KittPostgres
import Testing

/// libpq is loaded at run time (`LibPQ`), not linked: without it, the PostgreSQL entry points
/// throw one clear error and nothing traps. No PostgreSQL server needed.
struct LibPQLoadingTests {
    static let needsLibpq = "PostgreSQL support needs libpq (Debian/Ubuntu: apt-get install libpq5)"

    @Test func aMissingLibraryIsAClearErrorFromEveryEntryPoint() throws {
        let missing = LibPQ.load(["/nonexistent/libpq.so.5"])
        let error = try #require(failure(of: missing), "loaded a file that does not exist")
        #expect(error.message.hasPrefix(Self.needsLibpq), "\(error)")
        #expect(error.message.contains("/nonexistent/libpq.so.5"), "\(error)")
        // Not a lost connection: nothing retries it.
        #expect(!error.isConnectionFailure && !error.isRetryable)

        let url = "postgres://kitt@127.0.0.1:1/kitt"
        let parsing = #expect(throws: PostgresError.self) { try ConnectionInfo(url, libpq: missing) }
        #expect(parsing == error)
        let info = try ConnectionInfo(url)  // the system's libpq parses it
        let connecting = #expect(throws: PostgresError.self) { try PostgresConnection(info, libpq: missing) }
        #expect(connecting == error)
    }

    @Test func aLibraryWithoutLibpqsFunctionsNamesTheMissingOne() throws {
        // libc loads fine but exports no PQ* function.
        let error = try #require(failure(of: LibPQ.load(["libc.so.6"])), "libc passed for libpq")
        #expect(error.message.hasPrefix(Self.needsLibpq), "\(error)")
        #expect(error.message.contains("libc.so.6 lacks PQbackendPID"), "\(error)")
    }

    @Test func theNextCandidateIsTriedWhenOneDoesNotLoad() throws {
        let loaded = LibPQ.load(["/nonexistent/libpq.so.5", "libpq.so.5"])
        #expect(failure(of: loaded) == nil, "\(String(describing: failure(of: loaded)))")
        #expect(failure(of: LibPQ.shared) == nil)
    }

    @Test func kittLibpqReplacesTheSystemNames() {
        let system = ["libpq.so.5", "libpq.so"]
        #expect(LibPQ.candidates(environment: nil) == system)
        "".withCString { #expect(LibPQ.candidates(environment: $0) == system) }
        "/usr/pgsql-16/lib/libpq.so.5".withCString {
            #expect(LibPQ.candidates(environment: $0) == ["/usr/pgsql-16/lib/libpq.so.5"])
        }
    }

    private func failure(of result: Result<LibPQ, PostgresError>) -> PostgresError? {
        if case .failure(let error) = result { return error }
        return nil
    }
}
