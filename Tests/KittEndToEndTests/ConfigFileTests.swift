import Foundation
import KittApp
import KittTestSupport
import Testing

/// `kitt web --config FILE`: the flags as `key = value` lines; the command line wins; mistakes
/// name the file and line.
@Suite struct ConfigFileTests {
    func write(_ text: String) throws -> (TempDirectory, String) {
        let directory = TempDirectory("kitt-config")
        let path = directory.path + "/kitt.conf"
        try text.write(toFile: path, atomically: false, encoding: .utf8)
        return (directory, path)
    }

    @Test func fileSetsOptions_andFlagsOnTheCommandLineWin() throws {
        let (directory, path) = try write(
            """
            # kitt web settings
            host = 127.0.0.1
            port = 9000          # overridden below
            insecure = true
            quiet = false
            data-dir = "/srv/kitt data"
            log-format = json
            metrics-token = scr#ape   # a '#' inside a value stays
            sse-keepalive = 5
            """)
        _ = directory
        let options = try WebOptions.parse(["--config", path, "--port", "9100"], environment: [:])
        #expect(options.host == "127.0.0.1")
        #expect(options.port == 9100)
        #expect(options.insecure)
        #expect(!options.quiet)
        #expect(options.dataDirectory == "/srv/kitt data")
        #expect(options.logFormat == .json)
        #expect(options.metricsToken == "scr#ape")
        #expect(options.sseKeepalive == 5)
        let equalsForm = try WebOptions.parse(["--config=\(path)"], environment: [:])
        #expect(equalsForm.port == 9000)
    }

    @Test(arguments: [
        ("port = 1\nprot = 2\n", ":2: unknown key 'prot'; did you mean 'port'?"),
        ("port = 1\nport = 2\n", ":2: 'port' is already set on line 1"),
        ("insecure = maybe\n", ":1: 'insecure' is true or false, got 'maybe'"),
        ("just words\n", ":1: expected 'key = value'"),
        ("config = other.conf\n", ":1: unknown key 'config'"),
    ])
    func mistakes_nameTheLine(text: String, message: String) throws {
        let (directory, path) = try write(text)
        _ = directory
        #expect {
            _ = try WebOptions.parse(["--config", path], environment: [:])
        } throws: { error in
            "\(error)".contains(path + message)
        }
    }

    @Test func valuesAreCheckedLikeFlags() throws {
        let (directory, path) = try write("port = 70000\n")
        _ = directory
        #expect {
            _ = try WebOptions.parse(["--config", path], environment: [:])
        } throws: { error in
            "\(error)".contains("--port needs an integer in 0-65535")
        }
        #expect(throws: (any Error).self) { try WebOptions.parse(["--config", "/nonexistent/kitt.conf"], environment: [:]) }
    }
}

extension ConfigFileTests {
    @Test func repeatableFlags_mayRepeat() throws {
        let (directory, path) = try write("allowed-host = a.lab\nallowed-host = b.lab\n")
        _ = directory
        let options = try WebOptions.parse(["--config", path], environment: [:])
        #expect(options.allowedHosts == ["a.lab", "b.lab"])
    }
}
