import Foundation
import KittTestSupport
import Testing

#if canImport(Glibc)
    import Glibc
#endif

/// The built `kitt web` with `--auth-token-file` (SPEC §7.2): the token works, is not in the
/// process's command line, is never printed, and a loose data dir is tightened with a warning.
@Suite(.serialized) struct CommandLineSecretsTests {
    @Test func authTokenFile_keepsTheTokenOutOfPs_andTightensTheDataDir() throws {
        let data = TempDirectory("kitt-cli")
        chmod(data.path, 0o755)
        let secrets = TempDirectory("kitt-secret")
        let tokenFile = secrets.path + "/token"
        let token = "cli-file-token-" + UUID().uuidString
        try (token + "\n").write(toFile: tokenFile, atomically: false, encoding: .utf8)
        chmod(tokenFile, 0o600)

        let (child, banner) = try CommandLineTests().startWeb(["--auth-token-file", tokenFile], dataDir: data.path)
        defer {
            child.signal(SIGTERM)
            _ = child.waitForExit()
        }
        let commandLine = try String(contentsOfFile: "/proc/\(child.process.processIdentifier)/cmdline", encoding: .utf8)
        #expect(commandLine.contains(tokenFile) && !commandLine.contains(token))
        #expect(!child.stdout.contains(token) && !child.stderr.contains(token))
        #expect(child.waitForOutput("tightened to 0700", onStderr: true), "stderr: \(child.stderr)")
        var info = stat()
        #expect(stat(data.path, &info) == 0 && info.st_mode & 0o777 == 0o700)

        let client = try RawClient(port: banner.port, caFile: banner.caPath)
        let body = #"{"name":"gpu-1","hostname":"h"}"#
        try client.send(
            "POST /api/v1/agents/register HTTP/1.1\r\nHost: localhost\r\nAuthorization: Bearer \(token)\r\n"
                + "Content-Type: application/json\r\nContent-Length: \(body.utf8.count)\r\n\r\n\(body)")
        #expect(try client.readResponse().status == 201)
    }

    @Test func webHelp_listsTheHostileClientFlags() throws {
        let kitt = CommandLineTests.kitt
        try #require(FileManager.default.isExecutableFile(atPath: kitt), "build kitt first: swift build")
        let home = TempDirectory("kitt-cli-home")
        let result = try ChildProcess.run(kitt, ["web", "--help"], environment: CommandLineTests.environment(home: home.path))
        for flag in ["--auth-token-file", "--max-connections-per-ip", "--max-sse-per-ip", "--body-timeout", "--allowed-host"] {
            #expect(result.stdout.contains(flag), "help lacks \(flag)")
        }
    }

    @Test func authTokenFile_missing_exits1NamingTheFile() throws {
        let kitt = CommandLineTests.kitt
        try #require(FileManager.default.isExecutableFile(atPath: kitt), "build kitt first: swift build")
        let data = TempDirectory("kitt-cli")
        let missing = data.path + "/no-such-token"
        let result = try ChildProcess.run(
            kitt, ["web", "--port", "0", "--data-dir", data.path, "--auth-token-file", missing],
            environment: CommandLineTests.environment(home: data.path))
        #expect(result.status == 1)
        #expect(result.stderr.contains("cannot read auth token file \(missing)"), "\(result.stderr)")
    }
}
