import Foundation
import KittTestSupport
import Testing

/// What an operator installs (issue 12): the hardened systemd unit, the server's Dockerfile,
/// shell completion. Tools that are missing here make the test skip with the reason.
@Suite(.serialized) struct PackagingTests {
    let cli = CommandLineTests()
    static let root = APIHarness.repositoryRoot
    static let hasSystemdAnalyze = ExternalTools.has("systemd-analyze")
    static let hasZsh = ExternalTools.has("zsh")

    @Test(.enabled(if: PackagingTests.hasSystemdAnalyze, "systemd-analyze is not installed (Debian: systemd)"))
    func serverUnit_passesSystemdAnalyzeVerify() throws {
        let unit = try String(contentsOfFile: PackagingTests.root + "/Config/kitt.service", encoding: .utf8)
        // verify checks that ExecStart's binary exists: point it at the one just built.
        let directory = TempDirectory("kitt-unit")
        let path = directory.path + "/kitt.service"
        try unit.replacingOccurrences(of: "/usr/local/bin/kitt", with: CommandLineTests.kitt)
            .write(toFile: path, atomically: false, encoding: .utf8)
        let result = try ChildProcess.run("/usr/bin/env", ["systemd-analyze", "verify", path])
        #expect(result.status == 0, "\(result.stderr)")
        // verify exits 0 on unknown keys and bad values too; it only says so on stderr.
        #expect(result.stderr.trimmingCharacters(in: .whitespacesAndNewlines).isEmpty, "\(result.stderr)")
    }

    @Test func serverUnit_isHardened() throws {
        let unit = try String(contentsOfFile: PackagingTests.root + "/Config/kitt.service", encoding: .utf8)
        let lines = Set(unit.split(separator: "\n").map(String.init))
        for setting in [
            "DynamicUser=yes", "StateDirectory=kitt", "NoNewPrivileges=yes", "ProtectSystem=strict", "ProtectHome=yes",
            "PrivateTmp=yes", "CapabilityBoundingSet=", "RestrictAddressFamilies=AF_INET AF_INET6 AF_UNIX",
            "SystemCallFilter=@system-service", "UMask=0077",
        ] {
            #expect(lines.contains(setting), "Config/kitt.service lacks \(setting)")
        }
        #expect(unit.contains("ExecStart=/usr/local/bin/kitt web --config /etc/kitt/kitt.conf --data-dir /var/lib/kitt"))
        // The example config it names is one kitt accepts.
        let parsed = try cli.run(["web", "--config", PackagingTests.root + "/Config/kitt.conf", "--port", "70000"])
        #expect(parsed.stderr.contains("--port needs an integer"), "the config file itself parsed: \(parsed.stderr)")
    }

    /// Docker cannot run here: this checks the Dockerfile's promises by reading it.
    @Test func serverDockerfile_buildsStaticRunsAsNonRootWithVolumeAndHealthcheck() throws {
        let text = try String(contentsOfFile: PackagingTests.root + "/Config/Dockerfile", encoding: .utf8)
        #expect(text.contains("swift build -c release --static-swift-stdlib"))
        let stages = text.components(separatedBy: "\nFROM ")
        #expect(stages.count == 3, "a comment, a build stage and a runtime stage")
        let runtime = stages.last ?? ""
        #expect(runtime.contains("\nUSER kitt\n"))
        #expect(runtime.contains("VOLUME [\"/data\"]"))
        #expect(runtime.contains("HEALTHCHECK "))
        #expect(runtime.contains("/api/v1/health"))
        #expect(runtime.contains("ENTRYPOINT [\"/usr/local/bin/kitt\", \"web\", \"--data-dir\", \"/data\"]"))
        #expect(!runtime.contains("USER root"))
    }

    @Test func bashCompletion_isValidAndCompletes() throws {
        let script = try cli.run(["completion", "bash"])
        #expect(script.status == 0)
        let directory = TempDirectory("kitt-completion")
        let path = directory.path + "/kitt.bash"
        try script.stdout.write(toFile: path, atomically: false, encoding: .utf8)
        let syntax = try ChildProcess.run("/bin/bash", ["-n", path])
        #expect(syntax.status == 0, "\(syntax.stderr)")
        let probe = """
            source "$1"
            COMP_WORDS=(kitt we); COMP_CWORD=1; _kitt; echo "1:${COMPREPLY[*]}"
            COMP_WORDS=(kitt web --metrics-t); COMP_CWORD=2; _kitt; echo "2:${COMPREPLY[*]}"
            COMP_WORDS=(kitt agent --heartbeat-i); COMP_CWORD=2; _kitt; echo "3:${COMPREPLY[*]}"
            COMP_WORDS=(kitt web --log-format j); COMP_CWORD=3; _kitt; echo "4:${COMPREPLY[*]}"
            """
        let result = try ChildProcess.run("/bin/bash", ["-c", probe, "probe", path])
        #expect(result.stdout.contains("1:web\n"), "\(result.stdout) \(result.stderr)")
        #expect(result.stdout.contains("2:--metrics-token\n"), "\(result.stdout)")
        #expect(result.stdout.contains("3:--heartbeat-interval\n"), "\(result.stdout)")
        #expect(result.stdout.contains("4:json\n"), "\(result.stdout)")
    }

    @Test(.enabled(if: PackagingTests.hasZsh, "zsh is not installed (Debian: zsh; .ci/run installs it)"))
    func zshCompletion_isValidSyntax() throws {
        let script = try cli.run(["completion", "zsh"])
        #expect(script.status == 0)
        let directory = TempDirectory("kitt-completion")
        let path = directory.path + "/_kitt"
        try script.stdout.write(toFile: path, atomically: false, encoding: .utf8)
        let syntax = try ChildProcess.run("/usr/bin/env", ["zsh", "-n", path])
        #expect(syntax.status == 0, "\(syntax.stderr)")
    }

    @Test func completion_rejectsOtherShells() throws {
        let result = try cli.run(["completion", "fish"])
        #expect(result.status == 2)
        #expect(result.stderr.contains("'bash' or 'zsh'"))
    }
}
