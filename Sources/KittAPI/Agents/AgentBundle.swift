#if canImport(Glibc)
import Glibc
#endif
import KittNet
import KittBase
import CZlib
import KittJSON
import KittStore
import Synchronization

/// The agent bundles served by `/agent/package` and `/agent/build-context`: gzip tarballs
/// built once (on first request) from the running executable and `Config/`, then cached.
final class AgentBundles: Sendable {
    struct Bundle: Sendable {
        let bytes: [UInt8]
        let sha256: String
        let filename: String
    }

    struct BuildError: Error, CustomStringConvertible {
        let description: String
    }

    private let configDirectory: String
    private let executablePath: String
    /// Built bundles, shared by every `AgentBundles` of the process (keyed by kind and
    /// paths): the executable does not change while it runs, and a build (tar, gzip and
    /// SHA-256 of ~30 MB) is seconds of CPU that every router would otherwise repeat.
    private static let built = Mutex<[String: Bundle]>([:])

    init(configDirectory: String, executablePath: String = "/proc/self/exe") {
        self.configDirectory = configDirectory
        self.executablePath = executablePath
    }

    /// `kitt-agent/kitt`, `kitt-agent/kitt-agent.service`, `kitt-agent/README`.
    func package() throws -> Bundle {
        try cached("package") {
            let executable = try readExecutable()
            let entries: [Tar.Entry] = [
                .directory("kitt-agent/"),
                .file("kitt-agent/kitt", executable, mode: 0o755),
                .file("kitt-agent/kitt-agent.service", configFile("kitt-agent.service", fallback: AgentBundles.defaultUnit)),
                .file("kitt-agent/README", Array(AgentBundles.readme.utf8)),
            ]
            return try AgentBundles.bundle(entries, filename: "kitt-agent.tar.gz")
        }
    }

    /// `Dockerfile` and `kitt`: enough for `docker build` to make an agent image.
    func buildContext() throws -> Bundle {
        try cached("build-context") {
            let executable = try readExecutable()
            let entries: [Tar.Entry] = [
                .file("Dockerfile", configFile("Dockerfile.agent", fallback: AgentBundles.defaultDockerfile)),
                .file("kitt", executable, mode: 0o755),
            ]
            return try AgentBundles.bundle(entries, filename: "kitt-agent-build-context.tar.gz")
        }
    }

    /// The bundle of `kind` for these paths, built once per process (under the lock, so
    /// concurrent first requests wait for one build).
    private func cached(_ kind: String, build: () throws -> Bundle) throws -> Bundle {
        let key = kind + "|" + configDirectory + "|" + executablePath
        return try AgentBundles.built.withLock { built in
            if let bundle = built[key] { return bundle }
            let bundle = try build()
            built[key] = bundle
            return bundle
        }
    }

    private static func bundle(_ entries: [Tar.Entry], filename: String) throws -> Bundle {
        let tar = Tar.archive(entries, modificationTime: Int(Timestamp.epochSeconds(Timestamp.now()) ?? 0))
        let gzip = try Gzip.compress(tar)
        return Bundle(bytes: gzip, sha256: SHA256.hex(gzip), filename: filename)
    }

    private func readExecutable() throws -> [UInt8] {
        guard let bytes = Files.read(executablePath), !bytes.isEmpty else {
            throw BuildError(description: "cannot read the kitt executable at \(executablePath)")
        }
        return bytes
    }

    private func configFile(_ name: String, fallback: String) -> [UInt8] {
        if !configDirectory.isEmpty, let bytes = Files.read(configDirectory + "/" + name) { return bytes }
        return Array(fallback.utf8)
    }

    static let readme = """
        kitt agent bundle
        =================

        kitt                 the kitt executable (run `kitt agent --help`)
        kitt-agent.service   a systemd user unit that runs `kitt agent` with ~/.kitt/agent.conf

        install.sh (from the kitt server, /api/v1/agent/install.sh) unpacks this bundle under
        ~/.kitt, writes ~/.kitt/agent.conf and the server's CA certificate (~/.kitt/ca.pem),
        and starts the agent. Every download is verified with that CA and the bundle's sha256.

        """

    static let defaultUnit = """
        [Unit]
        Description=kitt agent
        After=network-online.target

        [Service]
        ExecStart=%h/.kitt/kitt-agent/kitt agent --config %h/.kitt/agent.conf
        Restart=on-failure
        RestartSec=5

        [Install]
        WantedBy=default.target

        """

    static let defaultDockerfile = """
        FROM debian:bookworm-slim
        RUN apt-get update && apt-get install -y --no-install-recommends ca-certificates libssl3 libsqlite3-0 zlib1g \\
            && rm -rf /var/lib/apt/lists/*
        COPY kitt /usr/local/bin/kitt
        ENTRYPOINT ["/usr/local/bin/kitt", "agent"]

        """
}

/// POSIX ustar framing: a 512-byte header per entry, contents padded to 512, two zero blocks.
enum Tar {
    struct Entry {
        let name: String
        let bytes: [UInt8]
        let mode: Int
        let isDirectory: Bool

        static func file(_ name: String, _ bytes: [UInt8], mode: Int = 0o644) -> Entry {
            Entry(name: name, bytes: bytes, mode: mode, isDirectory: false)
        }

        static func directory(_ name: String) -> Entry {
            Entry(name: name, bytes: [], mode: 0o755, isDirectory: true)
        }
    }

    static func archive(_ entries: [Entry], modificationTime: Int) -> [UInt8] {
        var out: [UInt8] = []
        out.reserveCapacity(entries.reduce(1024) { $0 + 512 + ($1.bytes.count + 511) / 512 * 512 })
        for entry in entries {
            out.append(contentsOf: header(entry, modificationTime: modificationTime))
            out.append(contentsOf: entry.bytes)
            let padding = (512 - entry.bytes.count % 512) % 512
            out.append(contentsOf: [UInt8](repeating: 0, count: padding))
        }
        out.append(contentsOf: [UInt8](repeating: 0, count: 1024))
        return out
    }

    static func header(_ entry: Entry, modificationTime: Int) -> [UInt8] {
        var block = [UInt8](repeating: 0, count: 512)
        func put(_ text: [UInt8], at offset: Int, width: Int) {
            for (i, byte) in text.prefix(width).enumerated() { block[offset + i] = byte }
        }
        /// Zero-padded octal of `width - 1` digits and a NUL.
        func octal(_ value: Int, at offset: Int, width: Int) {
            var digits = Array(String(value, radix: 8).utf8)
            while digits.count < width - 1 { digits.insert(UInt8(ascii: "0"), at: 0) }
            put(digits, at: offset, width: width - 1)
        }
        put(Array(entry.name.utf8), at: 0, width: 100)  // names here are short and fixed
        octal(entry.mode, at: 100, width: 8)
        octal(0, at: 108, width: 8)  // uid
        octal(0, at: 116, width: 8)  // gid
        octal(entry.isDirectory ? 0 : entry.bytes.count, at: 124, width: 12)
        octal(modificationTime, at: 136, width: 12)
        block[156] = entry.isDirectory ? UInt8(ascii: "5") : UInt8(ascii: "0")
        put(Array("ustar\u{0}00".utf8), at: 257, width: 8)
        put(Array("root".utf8), at: 265, width: 32)
        put(Array("root".utf8), at: 297, width: 32)
        // Checksum: the header's byte sum with the checksum field as eight spaces.
        for i in 148..<156 { block[i] = 0x20 }
        let sum = block.reduce(0) { $0 + Int($1) }
        var digits = Array(String(sum, radix: 8).utf8)
        while digits.count < 6 { digits.insert(UInt8(ascii: "0"), at: 0) }
        put(digits, at: 148, width: 6)
        block[154] = 0
        block[155] = 0x20
        return block
    }
}

/// gzip (RFC 1952) through zlib: deflate with windowBits 31 writes the gzip header and trailer.
enum Gzip {
    struct Failure: Error, CustomStringConvertible {
        let description: String
    }

    static func compress(_ input: [UInt8], level: Int32 = 6) throws -> [UInt8] {
        var stream = z_stream()
        let initialized = deflateInit2_(
            &stream, level, Z_DEFLATED, 31, 8, Z_DEFAULT_STRATEGY, zlibVersion(), Int32(MemoryLayout<z_stream>.size))
        guard initialized == Z_OK else { throw Failure(description: "deflateInit2 failed (\(initialized))") }
        defer { deflateEnd(&stream) }
        var output = [UInt8](repeating: 0, count: Int(deflateBound(&stream, uLong(input.count))) + 64)
        var input = input
        let status = input.withUnsafeMutableBufferPointer { source in
            output.withUnsafeMutableBufferPointer { destination in
                stream.next_in = source.baseAddress
                stream.avail_in = uInt(source.count)
                stream.next_out = destination.baseAddress
                stream.avail_out = uInt(destination.count)
                return deflate(&stream, Z_FINISH)
            }
        }
        guard status == Z_STREAM_END else { throw Failure(description: "deflate failed (\(status))") }
        output.removeSubrange(Int(stream.total_out)...)
        return output
    }
}
