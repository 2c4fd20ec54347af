import Foundation
import KittTestSupport
import Testing

/// `kitt` is also the agent on every GPU machine (issue 15): it must start where libpq is not
/// installed. Only the PostgreSQL store loads libpq, at run time (KittPostgres' LibPQ).
struct LibPQLinkageTests {
    static let hasReadelf = ExternalTools.has("readelf")

    @Test(.enabled(if: LibPQLinkageTests.hasReadelf, "readelf is not installed (Debian: binutils)"))
    func kittDoesNotNeedLibpqToStart() throws {
        let kitt = CommandLineTests.kitt
        try #require(FileManager.default.isExecutableFile(atPath: kitt), "build kitt first: swift build")
        let result = try ChildProcess.run("/usr/bin/env", ["readelf", "--dynamic", kitt])
        #expect(result.status == 0, "\(result.stderr)")
        let needed = result.stdout.split(separator: "\n").filter { $0.contains("(NEEDED)") }
        // This is the dynamic section kitt starts with: it does need libc and OpenSSL.
        #expect(needed.contains { $0.contains("[libc.so.6]") }, "\(needed)")
        #expect(needed.contains { $0.contains("[libssl.so") }, "\(needed)")
        #expect(!needed.contains { $0.contains("libpq") }, "\(needed)")
    }
}

extension LibPQLinkageTests {
    /// Docker cannot run here: the server image must carry what `--database` loads; the build
    /// stage needs libpq's header.
    @Test func serverDockerfile_installsLibpqForTheDatabaseFlag() throws {
        let text = try String(contentsOfFile: APIHarness.repositoryRoot + "/Config/Dockerfile", encoding: .utf8)
        let stages = text.components(separatedBy: "\nFROM ")
        try #require(stages.count == 3, "a comment, a build stage and a runtime stage")
        #expect(stages[1].contains(" libpq-dev "))
        #expect(stages[2].contains(" libpq5 "))
    }
}
