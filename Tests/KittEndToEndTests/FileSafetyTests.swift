import Foundation
import KittApp
import KittJSON
import KittTestSupport
import Testing

#if canImport(Glibc)
    import Glibc
#endif

/// Files and token (SPEC §7.2): the data dir is 0700 and the database files 0600 (made so or
/// tightened at start), the admin token can come from a file, and deleting a symlinked model
/// removes the link and never its target. Through the real server over TLS.
@Suite(.serialized) struct FileSafetyTests {
    /// Permission bits of `path` itself (not following a symlink); nil when absent.
    static func mode(_ path: String) -> mode_t? {
        var info = stat()
        guard lstat(path, &info) == 0 else { return nil }
        return info.st_mode & 0o777
    }

    static func exists(_ path: String) -> Bool { mode(path) != nil }

    @Test func freshDataDir_is0700_andDatabaseFiles0600() throws {
        let parent = TempDirectory("kitt-perm")
        let data = parent.path + "/data"
        let server = try E2E.server { $0.dataDirectory = data }
        defer { server.stop() }
        // A write makes sure the WAL and its index exist.
        #expect(try server.request("POST", "/api/v1/agents/register", json: ["name": "g", "hostname": "h"]).status == 201)
        #expect(FileSafetyTests.mode(data) == 0o700)
        for suffix in ["", "-wal", "-shm"] {
            #expect(FileSafetyTests.mode(data + "/kitt.db" + suffix) == 0o600, "kitt.db\(suffix)")
        }
        #expect(server.app.startupWarnings.isEmpty)
    }

    @Test func looseDataDirAndDatabase_areTightenedWithAWarning() throws {
        let data = TempDirectory("kitt-perm")
        do {
            let first = try E2E.server { $0.dataDirectory = data.path }
            first.stop()
        }
        // As an older kitt (or a umask of 022) left them.
        chmod(data.path, 0o755)
        chmod(data.path + "/kitt.db", 0o644)
        for suffix in ["-wal", "-shm"] where FileSafetyTests.exists(data.path + "/kitt.db" + suffix) {
            chmod(data.path + "/kitt.db" + suffix, 0o644)
        }
        let server = try E2E.server { $0.dataDirectory = data.path }
        defer { server.stop() }
        #expect(FileSafetyTests.mode(data.path) == 0o700)
        for suffix in ["", "-wal", "-shm"] {
            #expect(FileSafetyTests.mode(data.path + "/kitt.db" + suffix) == 0o600, "kitt.db\(suffix)")
        }
        let warning = server.app.startupWarnings.first { $0.contains("data dir") }
        #expect(warning?.contains("was 0755") == true && warning?.contains("tightened to 0700") == true)
    }

    @Test func sharedStickyDataDir_isLeftAlone_withAWarning() throws {
        // `--data-dir /tmp` must not lock every other user out of /tmp.
        let shared = TempDirectory("kitt-shared")
        chmod(shared.path, 0o1777)
        let server = try E2E.server { $0.dataDirectory = shared.path }
        defer { server.stop() }
        var info = stat()
        #expect(stat(shared.path, &info) == 0 && info.st_mode & 0o7777 == 0o1777)
        #expect(server.app.startupWarnings.contains { $0.contains("shared with other users") })
        #expect(FileSafetyTests.mode(shared.path + "/kitt.db") == 0o600)
    }

    @Test func authTokenFile_providesTheAdminToken() throws {
        let secrets = TempDirectory("kitt-secret")
        let file = secrets.path + "/token"
        try "  file-token-123\n".write(toFile: file, atomically: false, encoding: .utf8)
        chmod(file, 0o600)
        let server = try E2E.server {
            $0.authToken = nil
            $0.authTokenFile = file
        }
        defer { server.stop() }
        #expect(server.token == "file-token-123")
        #expect(!server.app.startupWarnings.contains { $0.contains("token file") })
        let agents = "/api/v1/agents/register"
        #expect(try server.request("POST", agents, json: ["name": "g", "hostname": "h"], token: "file-token-123").status == 201)
        #expect(try server.request("POST", agents, json: ["name": "g", "hostname": "h"]).status == 403)
        // No token was generated into the data dir.
        #expect(!FileSafetyTests.exists(server.directory.path + "/auth-token"))
    }

    @Test func authTokenFile_readableByOthers_warns() throws {
        let secrets = TempDirectory("kitt-secret")
        let file = secrets.path + "/token"
        try "shared-token\n".write(toFile: file, atomically: false, encoding: .utf8)
        chmod(file, 0o644)
        let server = try E2E.server {
            $0.authToken = nil
            $0.authTokenFile = file
        }
        defer { server.stop() }
        #expect(server.token == "shared-token")
        #expect(server.app.startupWarnings.contains { $0.contains(file) && $0.contains("0644") })
    }

    @Test func authTokenFile_missingOrEmpty_isAClearError() throws {
        let secrets = TempDirectory("kitt-secret")
        let empty = secrets.path + "/empty"
        try " \n\n".write(toFile: empty, atomically: false, encoding: .utf8)
        let twoWords = secrets.path + "/two"
        try "one two\n".write(toFile: twoWords, atomically: false, encoding: .utf8)
        let cases = [
            (secrets.path + "/missing", "cannot read auth token file"), (empty, "is empty"), (twoWords, "must hold one token"),
        ]
        for (file, message) in cases {
            do {
                let server = try E2E.server {
                    $0.authToken = nil
                    $0.authTokenFile = file
                }
                server.stop()
                Issue.record("\(file) was accepted")
            } catch {
                #expect("\(error)".contains(message) && "\(error)".contains(file), "\(error)")
            }
        }
    }

    @Test func authTokenFile_fromFlagOrEnvironment() throws {
        let fromFlag = try WebOptions.parse(["--auth-token-file", "/run/secret"], environment: ["KITT_AUTH_TOKEN": "env"])
        #expect(fromFlag.authTokenFile == "/run/secret" && fromFlag.authToken == nil)
        let fromEnv = try WebOptions.parse([], environment: ["KITT_AUTH_TOKEN_FILE": "/run/cred/kitt", "KITT_AUTH_TOKEN": "x"])
        #expect(fromEnv.authTokenFile == "/run/cred/kitt" && fromEnv.authToken == nil)
        let flagWins = try WebOptions.parse(["--auth-token", "t"], environment: ["KITT_AUTH_TOKEN_FILE": "/f"])
        #expect(flagWins.authToken == "t" && flagWins.authTokenFile == nil)
        #expect(throws: UsageError.self) { try WebOptions.parse(["--auth-token", "t", "--auth-token-file", "/f"], environment: [:]) }
    }

    @Test func deletingASymlinkedModel_removesTheLinkNeverTheTarget() throws {
        let outside = TempDirectory("kitt-outside")
        let sentinel = outside.path + "/weights/sentinel.gguf"
        try FileManager.default.createDirectory(atPath: outside.path + "/weights", withIntermediateDirectories: true)
        try Data(repeating: 7, count: 64).write(to: URL(fileURLWithPath: sentinel))
        let server = try E2E.server()
        defer { server.stop() }
        let models = server.directory.path + "/models"
        try FileManager.default.createDirectory(atPath: models + "/real", withIntermediateDirectories: true)
        try Data(repeating: 1, count: 16).write(to: URL(fileURLWithPath: models + "/real/model.gguf"))
        // One link leaves the model dir, one points at another model inside it.
        try FileManager.default.createSymbolicLink(atPath: models + "/linked", withDestinationPath: outside.path + "/weights")
        try FileManager.default.createSymbolicLink(atPath: models + "/alias", withDestinationPath: models + "/real")

        #expect(try server.request("DELETE", "/api/v1/models/linked").status == 200)
        #expect(!FileSafetyTests.exists(models + "/linked"))
        #expect(FileSafetyTests.exists(sentinel))

        #expect(try server.request("DELETE", "/api/v1/models/alias").status == 200)
        #expect(!FileSafetyTests.exists(models + "/alias"))
        #expect(FileSafetyTests.exists(models + "/real/model.gguf"))
    }
}
