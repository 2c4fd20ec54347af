#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif
internal import CPostgres

/// libpq, loaded with dlopen on first use rather than linked: the `kitt` executable is also
/// the agent on every GPU machine, and those need no libpq. Only the PostgreSQL code path
/// (ConnectionInfo, PostgresConnection) loads it; when libpq or one of its functions is
/// missing they throw a clear error (`LibPQ.missing`) and the rest of kitt runs on.
///
/// The fields keep libpq's own names so calls read like its documentation
/// (`libpq.PQexec(conn, sql)`); their types come from libpq-fe.h (see CPostgres/shim.h).
struct LibPQ: Sendable {
    let PQbackendPID: kitt_PQbackendPID
    let PQclear: kitt_PQclear
    let PQcmdTuples: kitt_PQcmdTuples
    let PQconnectdb: kitt_PQconnectdb
    let PQconninfoFree: kitt_PQconninfoFree
    let PQconninfoParse: kitt_PQconninfoParse
    let PQconsumeInput: kitt_PQconsumeInput
    let PQerrorMessage: kitt_PQerrorMessage
    let PQescapeIdentifier: kitt_PQescapeIdentifier
    let PQexec: kitt_PQexec
    let PQexecParams: kitt_PQexecParams
    let PQfinish: kitt_PQfinish
    let PQfname: kitt_PQfname
    let PQfreemem: kitt_PQfreemem
    let PQgetisnull: kitt_PQgetisnull
    let PQgetlength: kitt_PQgetlength
    let PQgetvalue: kitt_PQgetvalue
    let PQnfields: kitt_PQnfields
    let PQnotifies: kitt_PQnotifies
    let PQntuples: kitt_PQntuples
    let PQresultErrorField: kitt_PQresultErrorField
    let PQresultErrorMessage: kitt_PQresultErrorMessage
    let PQresultStatus: kitt_PQresultStatus
    let PQsetClientEncoding: kitt_PQsetClientEncoding
    let PQsetNoticeProcessor: kitt_PQsetNoticeProcessor
    let PQsocket: kitt_PQsocket
    let PQstatus: kitt_PQstatus
    let PQtransactionStatus: kitt_PQtransactionStatus

    /// Set to a libpq file to load instead of the system's (e.g. `/usr/pgsql-16/lib/libpq.so.5`).
    static let environmentVariable = "KITT_LIBPQ"

    /// The process's libpq: loaded once (a `static let` is initialized exactly once, thread-safely),
    /// success or failure. Never unloaded.
    static let shared: Result<LibPQ, PostgresError> = load(candidates(environment: getenv(environmentVariable)))

    /// `KITT_LIBPQ` when set, else the soname the runtime package installs (Debian's libpq5),
    /// then the development symlink (libpq-dev) for systems that only have that.
    static func candidates(environment override: UnsafePointer<CChar>?) -> [String] {
        if let override, override.pointee != 0 { return [String(cString: override)] }
        #if canImport(Darwin)
        return ["libpq.5.dylib", "libpq.dylib"]
        #else
        return ["libpq.so.5", "libpq.so"]
        #endif
    }

    /// Opens the first of `candidates` that loads and resolves every function kitt calls.
    /// Uncached: `shared` is the one callers use; tests pass files that do not exist.
    static func load(_ candidates: [String]) -> Result<LibPQ, PostgresError> {
        var firstFailure: String?
        for name in candidates {
            guard let handle = dlopen(name, RTLD_NOW | RTLD_LOCAL) else {
                if firstFailure == nil { firstFailure = dlerror().map { String(cString: $0) } ?? "cannot load \(name)" }
                continue
            }
            do throws(PostgresError) {
                return .success(try LibPQ(symbolsOf: handle, file: name))
            } catch {
                dlclose(handle)
                return .failure(error)
            }
        }
        let tried = candidates.joined(separator: " or ")
        return .failure(missing("cannot load \(tried)" + (firstFailure.map { " (\($0))" } ?? "")))
    }

    static func missing(_ what: String) -> PostgresError {
        .client("PostgreSQL support needs libpq (Debian/Ubuntu: apt-get install libpq5): \(what)")
    }

    private init(symbolsOf handle: UnsafeMutableRawPointer, file: String) throws(PostgresError) {
        func resolve<Function>(_ name: String) throws(PostgresError) -> Function {
            guard let address = dlsym(handle, name) else {
                throw LibPQ.missing("\(file) lacks \(name) (too old a libpq, or not libpq)")
            }
            return unsafeBitCast(address, to: Function.self)
        }
        PQbackendPID = try resolve("PQbackendPID")
        PQclear = try resolve("PQclear")
        PQcmdTuples = try resolve("PQcmdTuples")
        PQconnectdb = try resolve("PQconnectdb")
        PQconninfoFree = try resolve("PQconninfoFree")
        PQconninfoParse = try resolve("PQconninfoParse")
        PQconsumeInput = try resolve("PQconsumeInput")
        PQerrorMessage = try resolve("PQerrorMessage")
        PQescapeIdentifier = try resolve("PQescapeIdentifier")
        PQexec = try resolve("PQexec")
        PQexecParams = try resolve("PQexecParams")
        PQfinish = try resolve("PQfinish")
        PQfname = try resolve("PQfname")
        PQfreemem = try resolve("PQfreemem")
        PQgetisnull = try resolve("PQgetisnull")
        PQgetlength = try resolve("PQgetlength")
        PQgetvalue = try resolve("PQgetvalue")
        PQnfields = try resolve("PQnfields")
        PQnotifies = try resolve("PQnotifies")
        PQntuples = try resolve("PQntuples")
        PQresultErrorField = try resolve("PQresultErrorField")
        PQresultErrorMessage = try resolve("PQresultErrorMessage")
        PQresultStatus = try resolve("PQresultStatus")
        PQsetClientEncoding = try resolve("PQsetClientEncoding")
        PQsetNoticeProcessor = try resolve("PQsetNoticeProcessor")
        PQsocket = try resolve("PQsocket")
        PQstatus = try resolve("PQstatus")
        PQtransactionStatus = try resolve("PQtransactionStatus")
    }
}
