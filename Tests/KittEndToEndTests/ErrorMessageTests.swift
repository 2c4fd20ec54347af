import Foundation
import KittTestSupport
import Testing

@testable import KittApp
@testable import KittNet

#if canImport(Glibc)
    import Glibc
#endif

/// Error messages an operator can act on (issue 12): the database file is named, a host name
/// that does not resolve gets getaddrinfo's own reason, ranges read `0-65535`, typos get a
/// suggestion.
@Suite(.serialized) struct ErrorMessageTests {
    let cli = CommandLineTests()

    @Test func databaseErrors_nameTheFile() throws {
        let data = TempDirectory("kitt-errors")
        let missing = data.path + "/no/such/dir/kitt.db"
        let result = try cli.run(["web", "--data-dir", data.path, "--db", missing, "--port", "0"])
        #expect(result.status == 1)
        #expect(result.stderr.contains("cannot open the database \(missing)"), "\(result.stderr)")

        let garbage = data.path + "/garbage.db"
        try Data(repeating: 0x41, count: 4096).write(to: URL(fileURLWithPath: garbage))
        let notADatabase = try cli.run(["import", data.path, "--data-dir", data.path, "--db", garbage])
        #expect(notADatabase.status == 1)
        #expect(notADatabase.stderr.contains(garbage) && notADatabase.stderr.contains("not a SQLite database"), "\(notADatabase.stderr)")
    }

    @Test func secondServerOnTheSameDatabase_isRefusedNamingThePid() throws {
        let data = TempDirectory("kitt-errors")
        let (first, _) = try cli.startWeb([], dataDir: data.path)
        defer { first.signal(SIGTERM); _ = first.waitForExit(timeout: 10) }
        let second = try cli.run(["web", "--data-dir", data.path, "--host", "127.0.0.1", "--port", "0"])
        #expect(second.status == 1)
        #expect(second.stderr.contains("a kitt server (pid \(first.process.processIdentifier)) is using \(data.path)/kitt.db"), "\(second.stderr)")
    }

    @Test func unresolvableHost_givesGetaddrinfosReason_notErrno() {
        let error = AddressError(host: "nowhere.invalid", port: 8080, code: EAI_NONAME, systemErrno: ENOENT)
        #expect(error.description == "cannot resolve 'nowhere.invalid' (port 8080): \(String(cString: gai_strerror(EAI_NONAME)))")
        #expect(!error.description.contains(String(cString: strerror(ENOENT))))
        let system = AddressError(host: "h", port: 1, code: EAI_SYSTEM, systemErrno: EMFILE)
        #expect(system.description.hasSuffix(String(cString: strerror(EMFILE))))
    }

    @Test func portRange_readsLikeARange() throws {
        let result = try cli.run(["web", "--port", "70000"])
        #expect(result.status == 2)
        #expect(result.stderr.contains("--port needs an integer in 0-65535, got '70000'"), "\(result.stderr)")
        #expect(!result.stderr.contains("..."))
        let timing = try cli.run(["web", "--idle-timeout", "0"])
        #expect(timing.stderr.contains("from 0.001 to 1000000000,"), "\(timing.stderr)")
    }

    @Test func typos_getADidYouMean() throws {
        let command = try cli.run(["imprt", "/tmp"])
        #expect(command.status == 2)
        #expect(command.stderr.contains("did you mean 'import'?"), "\(command.stderr)")
        let flag = try cli.run(["web", "--prot", "8080"])
        #expect(flag.status == 2)
        #expect(flag.stderr.contains("did you mean '--port'?"), "\(flag.stderr)")
        let far = try cli.run(["web", "--completely-unrelated"])
        #expect(!far.stderr.contains("did you mean"), "\(far.stderr)")
    }

    @Test func suggestion_picksTheClosestKnownWord() {
        #expect(Suggestion.closest(to: "--data-di", in: ["--data-dir", "--db"]) == "--data-dir")
        #expect(Suggestion.closest(to: "--isecure", in: ["--insecure", "--legacy"]) == "--insecure")
        #expect(Suggestion.closest(to: "wbe", in: ["web", "import"]) == "web")
        #expect(Suggestion.closest(to: "--zzzzzz", in: ["--port", "--host"]) == nil)
        #expect(Suggestion.flags(in: WebOptions.help).contains("--metrics-token"))
        #expect(Suggestion.flags(in: WebOptions.help).contains("--tls-key"))
    }
}
