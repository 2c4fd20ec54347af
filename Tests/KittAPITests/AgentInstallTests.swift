#if canImport(FoundationEssentials)
import FoundationEssentials
#else
import Foundation
#endif
#if canImport(Glibc)
import Glibc
#endif
import CZlib
import KittAPI
import KittHTTP
import KittJSON
import KittNet
import KittStore
import KittTestSupport
import Testing

enum InstallScriptTests {
    /// The value of a `NAME='...'` line, unquoted the way bash would.
    static func assignment(_ name: String, in script: String) -> String? {
        guard let line = script.split(separator: "\n").first(where: { $0.hasPrefix(name + "=") }) else { return nil }
        var value = String(line.dropFirst(name.count + 1))
        guard value.hasPrefix("'"), value.hasSuffix("'"), value.count >= 2 else { return value }
        value = String(value.dropFirst().dropLast())
        return value.replacing(#"'\''"#, with: "'")
    }
}

/// Runs a shell command line; returns its exit status.
func shell(_ command: String) -> Int32 {
    let status = system(command)
    return (status >> 8) & 0xFF
}

@Suite(.serialized) struct AgentInstallTests {
    @Test func scriptEmbedsQuotedValuesAndIsValidBash() throws {
        let h = try APIHarness.agentFacing()
        let reply = try h.execute(.get, "/api/v1/agent/install.sh?name=gpu-1&port=8095", admin: false)
        #expect(reply.status == 200)
        #expect(reply.headers["Content-Type"]?.hasPrefix("text/x-shellscript") == true)
        let script = reply.text
        #expect(script.hasPrefix("#!/usr/bin/env bash\n"))
        #expect(InstallScriptTests.assignment("KITT_SERVER", in: script) == "https://kitt.example:8443")
        #expect(InstallScriptTests.assignment("AGENT_NAME", in: script) == "gpu-1")
        #expect(script.contains("\nAGENT_PORT=8095\n"))
        #expect(script.contains("-----BEGIN CERTIFICATE-----\nMIIBfake"))
        #expect(!script.contains(" -k ") && !script.contains("--insecure"))
        let sha = try h.execute(.get, "/api/v1/agent/package/sha256").json?["sha256"]?.stringValue
        #expect(InstallScriptTests.assignment("PACKAGE_SHA256", in: script) == sha)
        // The token is stored only as its hash.
        let token = try #require(InstallScriptTests.assignment("KITT_TOKEN", in: script))
        #expect(try h.store.agents.identity(tokenHash: SHA256.hex(token))?.name == "gpu-1")
        let stored = try h.store.database.read { try $0.queryOne("SELECT token_hash FROM agents WHERE name = 'gpu-1'")?.string(0) }
        #expect(stored == SHA256.hex(token))

        let file = h.directory.path + "/install.sh"
        try Array(script.utf8).write(to: file)
        #expect(shell("bash -n '\(file)'") == 0)
    }

    @Test func hostileNameStaysInert() throws {
        let h = try APIHarness.agentFacing()
        let hostile = #"x'; touch pwned #$(touch pwned2)`touch pwned3`"\"#
        // engine_url may hold no whitespace (SPEC §7.2), but quotes and $(...) still stay inert.
        let hostileURL = #"http://e/x';touch${IFS}pwned4;$(touch${IFS}pwned5)`touch${IFS}pwned6`"#
        let reply = try h.execute(
            .get,
            "/api/v1/agent/install.sh?name=\(PercentEncoding.encode(hostile))&engine_url=\(PercentEncoding.encode(hostileURL))",
            admin: false)
        #expect(reply.status == 200)
        let script = reply.text
        #expect(InstallScriptTests.assignment("AGENT_NAME", in: script) == hostile)
        #expect(InstallScriptTests.assignment("ENGINE_URL", in: script) == hostileURL)
        let dir = h.directory.path + "/sandbox"
        try FileManager.default.createDirectory(atPath: dir, withIntermediateDirectories: true)
        let full = dir + "/install.sh"
        try Array(script.utf8).write(to: full)
        #expect(shell("bash -n '\(full)'") == 0)
        // Source only the assignments, then print the name back.
        let prefixes = ["KITT_SERVER=", "KITT_TOKEN=", "AGENT_NAME=", "AGENT_PORT=", "PACKAGE_SHA256=", "ENGINE_URL="]
        let assignments = script.split(separator: "\n").filter { line in
            prefixes.contains { line.hasPrefix($0) }
        }.joined(separator: "\n")
        try Array((assignments + "\nprintf '%s' \"$AGENT_NAME\" > name.out\n").utf8).write(to: dir + "/assign.sh")
        #expect(shell("cd '\(dir)' && bash ./assign.sh") == 0)
        for pwned in ["pwned", "pwned2", "pwned3", "pwned4", "pwned5", "pwned6"] {
            #expect(!FileManager.default.fileExists(atPath: dir + "/" + pwned), "\(pwned) was created")
        }
        let echoed = FileManager.default.contents(atPath: dir + "/name.out").map { String(decoding: $0, as: UTF8.self) }
        #expect(echoed == hostile)
        #expect(try h.store.agents.identity(idOrName: hostile) != nil)
    }

    @Test func installValidation() throws {
        let h = try APIHarness.agentFacing()
        #expect(try h.execute(.head, "/api/v1/agent/install.sh?name=gpu-9", admin: false).status == 200)
        #expect(try h.store.agents.identity(name: "gpu-9") == nil)  // HEAD provisions nothing
        for bad in ["port=0", "port=65536", "port=abc", "port=-1", "name=a%0Ab", "name=a%00b"] {
            #expect(try h.execute(.get, "/api/v1/agent/install.sh?\(bad)", admin: false).status == 400, "\(bad)")
        }
    }

    @Test func bundlesAreGzipTarballsMatchingTheirSha256() throws {
        let h = try APIHarness.agentFacing()
        for (path, names) in [
            ("package", ["kitt-agent/", "kitt-agent/kitt", "kitt-agent/kitt-agent.service", "kitt-agent/README"]),
            ("build-context", ["Dockerfile", "kitt"]),
        ] {
            let bundle = try h.execute(.get, "/api/v1/agent/\(path)", admin: false)
            #expect(bundle.status == 200)
            #expect(bundle.headers["Content-Type"] == "application/gzip")
            #expect(Array(bundle.body.prefix(2)) == [0x1f, 0x8b])
            let digest = try h.execute(.get, "/api/v1/agent/\(path)/sha256", admin: false).json
            #expect(digest?["sha256"]?.stringValue == SHA256.hex(bundle.body))
            #expect(digest?["filename"]?.stringValue?.hasSuffix(".tar.gz") == true)
            // Cached: the same bytes again.
            #expect(try h.execute(.get, "/api/v1/agent/\(path)").body == bundle.body)

            let tar = try #require(gunzip(bundle.body))
            let entries = untar(tar)
            #expect(entries.map(\.name) == names)
            let executable = try #require(entries.first { $0.name.hasSuffix("kitt") })
            #expect(executable.mode == 0o755)
            #expect(executable.bytes == (FileManager.default.contents(atPath: "/proc/self/exe").map { [UInt8]($0) } ?? []))
            // And the system tar agrees.
            let file = h.directory.path + "/\(path).tar.gz"
            try bundle.body.write(to: file)
            #expect(shell("tar -tzf '\(file)' > /dev/null") == 0)
        }
        let context = try #require(gunzip(try h.execute(.get, "/api/v1/agent/build-context").body))
        let dockerfile = try #require(untar(context).first)
        #expect(String(decoding: dockerfile.bytes, as: UTF8.self).contains("COPY kitt /usr/local/bin/kitt"))
        let unit = untar(try #require(gunzip(try h.execute(.get, "/api/v1/agent/package").body)))[2]
        #expect(String(decoding: unit.bytes, as: UTF8.self).contains("ExecStart=%h/.kitt/kitt-agent/kitt agent"))
    }
}

extension [UInt8] {
    func write(to path: String) throws {
        guard FileManager.default.createFile(atPath: path, contents: Data(self)) else { throw CocoaErrorish() }
    }
}

struct CocoaErrorish: Error {}

func gunzip(_ bytes: [UInt8]) -> [UInt8]? {
    var stream = z_stream()
    guard inflateInit2_(&stream, 31, zlibVersion(), Int32(MemoryLayout<z_stream>.size)) == Z_OK else { return nil }
    defer { inflateEnd(&stream) }
    var input = bytes
    var output: [UInt8] = []
    var chunk = [UInt8](repeating: 0, count: 1 << 20)
    return input.withUnsafeMutableBufferPointer { source -> [UInt8]? in
        stream.next_in = source.baseAddress
        stream.avail_in = uInt(source.count)
        while true {
            let status = chunk.withUnsafeMutableBufferPointer { out -> Int32 in
                stream.next_out = out.baseAddress
                stream.avail_out = uInt(out.count)
                return inflate(&stream, Z_NO_FLUSH)
            }
            output.append(contentsOf: chunk[0..<(chunk.count - Int(stream.avail_out))])
            if status == Z_STREAM_END { return output }
            if status != Z_OK { return nil }
        }
    }
}

struct TarEntry {
    let name: String
    let mode: Int
    let bytes: [UInt8]
}

func untar(_ tar: [UInt8]) -> [TarEntry] {
    var entries: [TarEntry] = []
    var offset = 0
    func field(_ start: Int, _ width: Int) -> String {
        String(decoding: tar[offset + start..<offset + start + width].prefix { $0 != 0 }, as: UTF8.self)
    }
    while offset + 512 <= tar.count, tar[offset] != 0 {
        let name = field(0, 100)
        let mode = Int(field(100, 8), radix: 8) ?? -1
        let size = Int(field(124, 12), radix: 8) ?? 0
        // The checksum must hold: sum of the header with the checksum field as spaces.
        var header = Array(tar[offset..<offset + 512])
        for i in 148..<156 { header[i] = 0x20 }
        let sum = header.reduce(0) { $0 + Int($1) }
        let stated = Int(field(148, 6), radix: 8) ?? -1
        guard sum == stated, field(257, 6) == "ustar" else { return entries }
        entries.append(TarEntry(name: name, mode: mode, bytes: Array(tar[offset + 512..<offset + 512 + size])))
        offset += 512 + (size + 511) / 512 * 512
    }
    return entries
}
