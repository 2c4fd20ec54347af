import Foundation
import KittAPI
import KittTestSupport
import Testing

/// The built `kitt` executable (SPEC §1): usage, exit codes, banner, signals, persisted token and CA.
@Suite(.serialized) struct CommandLineTests {
    static var kitt: String { APIHarness.repositoryRoot + "/.build/debug/kitt" }

    /// A clean environment: no KITT_AUTH_TOKEN or DEVON_* from the developer's shell.
    static func environment(home: String) -> [String: String] {
        ["PATH": "/usr/bin:/bin", "HOME": home, "LANG": "C"]
    }

    func run(_ arguments: [String]) throws -> (status: Int32, stdout: String, stderr: String) {
        let kitt = CommandLineTests.kitt
        try #require(FileManager.default.isExecutableFile(atPath: kitt), "build kitt first: swift build")
        let home = TempDirectory("kitt-cli-home")
        return try ChildProcess.run(kitt, arguments, environment: CommandLineTests.environment(home: home.path))
    }

    @Test func version_printsTheVersionAndExits0() throws {
        let result = try run(["--version"])
        #expect(result.status == 0)
        #expect(result.stdout == "kitt \(KittVersion.current)\n")
        #expect(result.stderr.isEmpty)
    }

    @Test func help_printsUsageAndExits0() throws {
        for arguments in [["help"], ["--help"], ["-h"]] {
            let result = try run(arguments)
            #expect(result.status == 0, "\(arguments)")
            #expect(result.stdout.hasPrefix("Usage: kitt <command>"), "\(arguments)")
            #expect(result.stdout.contains("web") && result.stdout.contains("import"))
        }
    }

    @Test func webHelp_listsEveryFlagAndExits0() throws {
        for arguments in [["web", "--help"], ["web", "-h"], ["help", "web"]] {
            let result = try run(arguments)
            #expect(result.status == 0, "\(arguments)")
            #expect(result.stdout.hasPrefix("Usage: kitt web"), "\(arguments)")
            for flag in [
                "--host", "--port", "--auth-token", "--insecure", "--legacy", "--tls-cert", "--tls-key", "--data-dir",
                "--db", "--model-dir", "--devon-url", "--agent-offline-after", "--sse-keepalive", "--quicktest-timeout",
            ] {
                #expect(result.stdout.contains(flag), "\(arguments) lacks \(flag)")
            }
        }
    }

    @Test func unknownFlag_isAOneLineErrorAndExit2() throws {
        let cases: [([String], String)] = [
            (["web", "--bogus"], "--bogus"),
            (["web", "--port"], "--port"),
            (["web", "--port", "http"], "--port"),
            (["web", "--insecure=yes"], "--insecure"),
            (["web", "--tls-cert", "/nonexistent.pem"], "--tls-key"),
            (["web", "extra"], "extra"),
            (["frobnicate"], "frobnicate"),
        ]
        for (arguments, mention) in cases {
            let result = try run(arguments)
            #expect(result.status == 2, "\(arguments): \(result.status)")
            #expect(result.stdout.isEmpty, "\(arguments)")
            let lines = result.stderr.split(separator: "\n")
            #expect(lines.count == 1, "\(arguments): \(result.stderr)")
            #expect(result.stderr.contains(mention), "\(arguments): \(result.stderr)")
        }
    }

    /// What `kitt web` printed at start.
    struct Banner {
        var url = ""
        var port = 0
        var caPath: String?
        var fingerprint: String?
        var token: String?

        init(_ stdout: String) {
            for line in stdout.split(separator: "\n").map(String.init) {
                if line.hasPrefix("URL: ") {
                    url = String(line.dropFirst("URL: ".count))
                    let afterColon = url.split(separator: ":").last ?? ""
                    port = Int(afterColon.prefix { $0.isNumber }) ?? 0
                } else if line.hasPrefix("TLS CA certificate: ") {
                    caPath = String(line.dropFirst("TLS CA certificate: ".count))
                } else if line.hasPrefix("TLS CA SHA-256 fingerprint: ") {
                    fingerprint = String(line.dropFirst("TLS CA SHA-256 fingerprint: ".count))
                } else if line.hasPrefix("Auth token"), let colon = line.range(of: "): ") {
                    token = String(line[colon.upperBound...])
                }
            }
        }
    }

    /// Starts `kitt web` on a free port and waits for its banner.
    func startWeb(_ extra: [String], dataDir: String) throws -> (ChildProcess, Banner) {
        try #require(FileManager.default.isExecutableFile(atPath: CommandLineTests.kitt), "build kitt first")
        let child = try ChildProcess(
            CommandLineTests.kitt, ["web", "--host", "127.0.0.1", "--port", "0", "--data-dir", dataDir] + extra,
            environment: CommandLineTests.environment(home: dataDir))
        try #require(child.waitForOutput("Data: "), "no banner; stdout: \(child.stdout) stderr: \(child.stderr)")
        return (child, Banner(child.stdout))
    }

    @Test func web_printsURLCAFingerprintToken_servesTLS_andExits0OnSIGTERM() throws {
        let data = TempDirectory("kitt-cli")
        let (child, banner) = try startWeb([], dataDir: data.path)
        #expect(banner.url == "https://127.0.0.1:\(banner.port)/api/v1/", "\(child.stdout)")
        #expect(banner.caPath == data.path + "/certs/ca.pem")
        let fingerprint = try #require(banner.fingerprint)
        #expect(fingerprint.split(separator: ":").count == 32, "\(fingerprint)")
        let token = try #require(banner.token)
        #expect(token.count >= 32)
        #expect(try String(contentsOfFile: data.path + "/auth-token", encoding: .utf8).contains(token))
        let mode =
            try FileManager.default.attributesOfItem(atPath: data.path + "/auth-token")[.posixPermissions] as? Int
        #expect(mode == 0o600)

        let client = try RawClient(port: banner.port, caFile: banner.caPath)
        try client.send(E2E.get("/api/v1/health"))
        #expect(try client.readResponse().status == 200)
        #expect(child.waitForOutput("GET /api/v1/health 200"), "no access log line: \(child.stdout)")

        let stream = try RawClient(port: banner.port, caFile: banner.caPath)
        try stream.send(E2E.get("/api/v1/events/stream"))
        _ = try stream.readUntil(": connected\n\n", timeout: 5)
        for name in ["ca-key.pem", "server-key.pem"] {
            let keyMode = try FileManager.default.attributesOfItem(atPath: data.path + "/certs/" + name)[
                .posixPermissions]
            #expect(keyMode as? Int == 0o600, "\(name)")
        }

        let start = ContinuousClock.now
        child.signal(SIGTERM)
        #expect(child.waitForExit(timeout: 10) == 0, "stderr: \(child.stderr)")
        #expect(E2E.elapsed(since: start) < 5)
        _ = try client.readUntilClose(timeout: 3)
        _ = try stream.readUntilClose(timeout: 3)
        #expect(client.peerClosed && stream.peerClosed)
        // The database was closed cleanly: the last connection checkpoints and removes the WAL.
        #expect(FileManager.default.fileExists(atPath: data.path + "/kitt.db"))
        #expect(!FileManager.default.fileExists(atPath: data.path + "/kitt.db-wal"))
    }

    @Test func restart_reusesTokenAndCA_andSIGINTExits0() throws {
        let data = TempDirectory("kitt-cli")
        let (first, before) = try startWeb([], dataDir: data.path)
        first.signal(SIGTERM)
        #expect(first.waitForExit(timeout: 10) == 0)
        let (second, after) = try startWeb([], dataDir: data.path)
        #expect(before.token != nil && after.token == before.token)
        #expect(before.fingerprint != nil && after.fingerprint == before.fingerprint)
        let client = try RawClient(port: after.port, caFile: before.caPath)
        try client.send(E2E.get("/api/v1/version"))
        #expect(try client.readResponse().status == 200)
        second.signal(SIGINT)
        #expect(second.waitForExit(timeout: 10) == 0, "stderr: \(second.stderr)")
    }

    @Test func insecureWithoutToken_warnsThatAuthIsOff_andServesPlainHTTP() throws {
        let data = TempDirectory("kitt-cli")
        let (child, banner) = try startWeb(["--insecure"], dataDir: data.path)
        #expect(banner.url == "http://127.0.0.1:\(banner.port)/api/v1/")
        #expect(banner.token == nil && banner.caPath == nil)
        #expect(child.waitForOutput("authentication is OFF", onStderr: true), "stderr: \(child.stderr)")
        #expect(child.stderr.contains("--insecure"))
        let client = try RawClient(port: banner.port)
        try client.send(E2E.get("/api/health"))
        #expect(try client.readResponse().json?["status"]?.stringValue == "ok")
        child.signal(SIGTERM)
        #expect(child.waitForExit(timeout: 10) == 0)
    }

    @Test func insecureWithToken_warnsAboutPlainHTTPButNotAuth() throws {
        let data = TempDirectory("kitt-cli")
        let (child, _) = try startWeb(["--insecure", "--auth-token", "s3cret-token"], dataDir: data.path)
        #expect(child.waitForOutput("WARNING", onStderr: true))
        #expect(!child.stderr.contains("authentication is OFF"))
        #expect(!child.stdout.contains("s3cret-token"))
        child.signal(SIGTERM)
        #expect(child.waitForExit(timeout: 10) == 0)
    }

    @Test func givenCertificateAndKey_areServed_andEnvTokenIsUsedWithoutPersisting() throws {
        let source = try E2E.server()  // only for its generated CA and server certificate
        let certs = source.directory.path + "/certs"
        source.stop()
        let data = TempDirectory("kitt-cli")
        let kitt = CommandLineTests.kitt
        var environment = CommandLineTests.environment(home: data.path)
        environment["KITT_AUTH_TOKEN"] = "env-token-123"
        let child = try ChildProcess(
            kitt,
            [
                "web", "--host", "127.0.0.1", "--port", "0", "--data-dir", data.path, "--db", data.path + "/other.db",
                "--tls-cert", certs + "/server.pem", "--tls-key", certs + "/server-key.pem",
            ],
            environment: environment)
        try #require(child.waitForOutput("Data: "), "stdout: \(child.stdout) stderr: \(child.stderr)")
        let banner = Banner(child.stdout)
        #expect(banner.url.hasPrefix("https://"))
        #expect(banner.caPath == nil && banner.token == nil)
        #expect(!child.stdout.contains("env-token-123"))
        #expect(!FileManager.default.fileExists(atPath: data.path + "/auth-token"))
        #expect(!FileManager.default.fileExists(atPath: data.path + "/certs/ca.pem"))
        #expect(FileManager.default.fileExists(atPath: data.path + "/other.db"))
        let client = try RawClient(port: banner.port, caFile: certs + "/ca.pem")
        try client.send(E2E.get("/api/v1/health"))
        #expect(try client.readResponse().status == 200)
        child.signal(SIGTERM)
        #expect(child.waitForExit(timeout: 10) == 0)
    }

    @Test func portInUse_failsWithAOneLineError() throws {
        let server = try E2E.server()
        defer { server.stop() }
        let data = TempDirectory("kitt-cli")
        let result = try ChildProcess.run(
            CommandLineTests.kitt,
            ["web", "--host", "127.0.0.1", "--port", String(server.port), "--data-dir", data.path],
            environment: CommandLineTests.environment(home: data.path), timeout: 20)
        #expect(result.status == 1, "\(result.status) \(result.stderr)")
        #expect(result.stderr.split(separator: "\n").count == 1, "\(result.stderr)")
        #expect(result.stderr.contains("cannot start"), "\(result.stderr)")
    }

    @Test(.enabled(if: InstalledTool.exists("/usr/bin/curl"), "curl is not installed (Debian: curl; .ci/run installs it)")) func ipv6Host_bannerURLHasBrackets_andCurlVerifiesIt() throws {
        let data = TempDirectory("kitt-cli")
        let child = try ChildProcess(
            CommandLineTests.kitt, ["web", "--host", "::1", "--port", "0", "--data-dir", data.path],
            environment: CommandLineTests.environment(home: data.path))
        try #require(child.waitForOutput("Data: "), "stdout: \(child.stdout) stderr: \(child.stderr)")
        let banner = Banner(child.stdout)
        #expect(banner.url == "https://[::1]:\(banner.port)/api/v1/", "\(child.stdout)")
        let ca = try #require(banner.caPath)
        let get = try ChildProcess.run("/usr/bin/curl", ["-sS", "-g", "--cacert", ca, banner.url + "health"])
        #expect(get.status == 0, "\(get.stderr)")
        #expect(get.stdout == #"{"status":"ok"}"#)
        child.signal(SIGTERM)
        #expect(child.waitForExit(timeout: 10) == 0)
    }
}
