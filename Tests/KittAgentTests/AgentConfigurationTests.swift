import KittAgent
import Testing

@Suite struct AgentConfigurationTests {
    func parse(_ arguments: [String], files: [String: String] = [:], home: String? = "/home/lab") throws
        -> (AgentConfiguration, [String])
    {
        let result = try AgentConfiguration.parse(arguments, home: home, hostname: "gpu-box") { files[$0] }
        return (result.0, result.warnings)
    }

    @Test func readsInstallShConfigFile() throws {
        let file = """
            # written by install.sh
            server=https://kitt.lab:8080/
            token=tok-123
            name=rig 7
            port=8091

            ca_file=/home/lab/.kitt/ca.pem
            """
        let (config, warnings) = try parse([], files: ["/home/lab/.kitt/agent.conf": file])
        #expect(config.server == "https://kitt.lab:8080")
        #expect(config.token == "tok-123")
        #expect(config.name == "rig 7")
        #expect(config.port == 8091)
        #expect(config.caFile == "/home/lab/.kitt/ca.pem")
        #expect(config.heartbeatInterval == nil)
        #expect(warnings.isEmpty)
    }

    @Test func flagsBeatTheFile() throws {
        let file = "server=https://a:1\ntoken=file-token\nname=from-file\nengine_url=http://e:1\n"
        let (config, _) = try parse(
            [
                "--config", "/etc/kitt.conf", "--token", "flag-token", "--name=from-flag", "--ca", "/ca.pem",
                "--storage-dir", "/data/models", "--heartbeat-interval", "0.5", "--throughput-prompts", "3",
            ],
            files: ["/etc/kitt.conf": file])
        #expect(config.server == "https://a:1")
        #expect(config.token == "flag-token")
        #expect(config.name == "from-flag")
        #expect(config.caFile == "/ca.pem")
        #expect(config.storageDirectory == "/data/models")
        #expect(config.engineURL == "http://e:1")
        #expect(config.heartbeatInterval == 0.5)
        #expect(config.throughputPrompts == 3)
    }

    @Test func quotesCommentsAndUnknownKeys() throws {
        let file = "  server = 'https://s:2'  \n# token=nope\ntoken=\"t t\"\nca=/x.pem\ncolour=blue\n"
        let (config, warnings) = try parse(["--config", "/c"], files: ["/c": file])
        #expect(config.server == "https://s:2")
        #expect(config.token == "t t")
        #expect(config.caFile == "/x.pem")
        #expect(config.name == "gpu-box")  // the host name when no name is given
        #expect(warnings.count == 1)
        #expect(warnings.first?.contains("colour") == true)
    }

    @Test func missingDefaultFileIsFineButMissingConfigFlagFileIsNot() throws {
        let (config, _) = try parse(["--server", "http://s:1", "--token", "t"])
        #expect(config.port == 8090)
        #expect(throws: AgentConfigError.self) {
            try parse(["--config", "/nope", "--server", "http://s", "--token", "t"])
        }
    }

    @Test func rejectsMistakes() {
        #expect(throws: AgentConfigError("missing token: give --token or 'token=' in the config file")) {
            try parse(["--server", "https://s"])
        }
        #expect(throws: AgentConfigError.self) { try parse(["--server", "ftp://s", "--token", "t"]) }
        #expect(throws: AgentConfigError.self) { try parse(["--server", "https://s", "--token", "t", "--port", "0"]) }
        #expect(throws: AgentConfigError.self) { try parse(["--server", "https://s", "--token", "t", "--bogus", "1"]) }
        #expect(throws: AgentConfigError.self) { try parse(["--server", "https://s", "--token"]) }
        #expect(throws: AgentConfigError.self) { try parse(["stray"]) }
        #expect(throws: AgentConfigError.self) {
            try parse(["--config", "/c"], files: ["/c": "server=https://s\nthis line has no equals\n"])
        }
        #expect(throws: AgentConfigError.self) {
            try parse(["--server", "https://s", "--token", "t", "--heartbeat-interval", "301"])
        }
    }

    @Test func duplicateKeysAndControlCharactersAreRefused() throws {
        let base = "server=https://kitt.lab:8080\ntoken=t\n"
        let cases: [(String, String)] = [
            (base + "server=https://evil.example\n", "'server' is given twice"),
            (base + "ca=/a\nca_file=/b\n", "'ca_file' is given twice"),
            (base + "name=a\u{01}b\n", "control character"),
            (base + "engine_url=http://e\u{1B}[2J\n", "control character"),
            (base + "name=a\tb\n", "control character"),
        ]
        for (file, message) in cases {
            #expect(throws: AgentConfigError.self) { try parse([], files: ["/home/lab/.kitt/agent.conf": file]) }
            do {
                _ = try parse([], files: ["/home/lab/.kitt/agent.conf": file])
            } catch {
                #expect("\(error)".contains(message), "\(error)")
            }
        }
        // CRLF line ends stay fine.
        #expect(try parse([], files: ["/home/lab/.kitt/agent.conf": "server=https://k\r\ntoken=t\r\n"]).0.token == "t")
    }

    @Test func storageDirectoryMustBeBelowHomeOrADataRoot() throws {
        let file = "server=https://kitt.lab:8080\ntoken=t\n"
        for bad in ["/", "/etc", "/home/lab", "/var", "/opt/../etc", "/usr/lib", "relative/dir", "/data/../../root", "~"] {
            #expect(throws: AgentConfigError.self, "\(bad)") {
                try parse(["--storage-dir", bad], files: ["/home/lab/.kitt/agent.conf": file])
            }
        }
        for good in ["/home/lab/models", "~/.kitt/models", "/var/lib/kitt", "/data/models", "/mnt/nfs/m", "/srv/m", "/opt/m"] {
            #expect(try parse(["--storage-dir", good], files: ["/home/lab/.kitt/agent.conf": file]).0.storageDirectory == good)
        }
        // In the file too.
        #expect(throws: AgentConfigError.self) {
            try parse([], files: ["/home/lab/.kitt/agent.conf": file + "storage_dir=/\n"])
        }
    }
}
