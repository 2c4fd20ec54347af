import Foundation
import Glibc
import KittPostgres
import Synchronization

/// A throwaway PostgreSQL server for the tests: `initdb` into a temp dir and `pg_ctl start`
/// on a free loopback port, once per test process (the first test that asks starts it),
/// with password (SCRAM) authentication so the tests exercise libpq's password handling.
/// Each test gets its own database (`CREATE DATABASE`). PostgreSQL refuses to run as root,
/// so as root the server runs as the `postgres` user (`runuser`).
///
/// Stopped at exit (atexit), and by a small watchdog shell if the test process dies first,
/// so no server outlives the run.
public final class PostgresServer: Sendable {
    public let port: Int
    public let directory: String
    public let password: String
    public let binaries: String
    private let databases = Atomic<Int>(0)

    /// Why the tests cannot run here, or nil when the binaries are present.
    public static let unavailableReason: String? = binDirectory() == nil
        ? "PostgreSQL server binaries (initdb, pg_ctl) not found; install Debian's postgresql package"
        : nil
    public static var isAvailable: Bool { unavailableReason == nil }

    /// The process's server, started on first use.
    public static let shared: Result<PostgresServer, any Error> = Result { try PostgresServer.start() }

    public static func get() throws -> PostgresServer { try shared.get() }

    /// A new, empty database of its own (its URL carries the password).
    public static func freshDatabase() throws -> ConnectionInfo { try ConnectionInfo(freshDatabaseURL()) }

    /// The URL (with the password) of a new, empty database, as `kitt web --database` takes it.
    public static func freshDatabaseURL() throws -> String {
        let server = try get()
        let name = "kitt_test_\(getpid())_\(server.databases.add(1, ordering: .relaxed).newValue)"
        let admin = try PostgresConnection(server.info(database: "postgres"))
        defer { admin.close() }
        try admin.execute("CREATE DATABASE \(name)")
        return server.url(database: name)
    }

    public func url(database: String, user: String = "kitt", password: String? = nil) -> String {
        let secret = password ?? self.password
        return "postgres://\(user)\(secret.isEmpty ? "" : ":" + secret)@127.0.0.1:\(port)/\(database)"
    }

    public func info(database: String) throws -> ConnectionInfo { try ConnectionInfo(url(database: database)) }

    // MARK: Starting and stopping

    private init(port: Int, directory: String, password: String, binaries: String) {
        self.port = port
        self.directory = directory
        self.password = password
        self.binaries = binaries
    }

    private static func start() throws -> PostgresServer {
        guard let binaries = binDirectory() else { throw Failure(unavailableReason ?? "no PostgreSQL") }
        let asRoot = getuid() == 0
        var template = Array("/tmp/kitt-pg-XXXXXX".utf8CString)
        guard let made = mkdtemp(&template) else { throw Failure("mkdtemp failed") }
        let directory = String(cString: made)
        let password = "pw-\(UInt64.random(in: 1...UInt64.max))"
        let pwfile = directory + "/pwfile"
        try password.write(toFile: pwfile, atomically: false, encoding: .utf8)
        if asRoot {
            guard let user = getpwnam("postgres") else { throw Failure("running as root and there is no postgres user") }
            chown(directory, user.pointee.pw_uid, user.pointee.pw_gid)
            chown(pwfile, user.pointee.pw_uid, user.pointee.pw_gid)
        }
        let data = directory + "/data"
        try run(asRoot, binaries + "/initdb", [
            "-D", data, "-U", "kitt", "--pwfile", pwfile, "--auth", "scram-sha-256", "-E", "UTF8",
            "--locale", "C", "--no-sync",
        ])
        // A free port can be taken between asking and binding: try a few.
        var lastError: (any Error)?
        for _ in 0..<5 {
            let port = try freePort()
            do {
                try run(asRoot, binaries + "/pg_ctl", [
                    "-D", data, "-l", directory + "/server.log", "-w", "-t", "60", "start", "-o",
                    "-p \(port) -k \(directory) -c listen_addresses=127.0.0.1 -c fsync=off "
                        + "-c synchronous_commit=off -c full_page_writes=off -c max_connections=200",
                ])
                let server = PostgresServer(port: port, directory: directory, password: password, binaries: binaries)
                server.installStopHandlers(asRoot: asRoot)
                return server
            } catch {
                lastError = error
            }
        }
        throw lastError ?? Failure("pg_ctl start failed")
    }

    /// Stops the server at exit, or when this process dies without exiting cleanly.
    private func installStopHandlers(asRoot: Bool) {
        let stop = stopCommand(asRoot: asRoot)
        PostgresServer.stopAtExit.withLock { $0 = stop }
        atexit {
            guard let command = PostgresServer.stopAtExit.withLock({ $0 }) else { return }
            _ = system(command)
        }
        // The watchdog polls our pid; if we vanish (crash, SIGKILL), it stops the server.
        // A zombie still answers kill -0: stop when the process is gone or has exited.
        let pid = getpid()
        let script = "while kill -0 \(pid) 2>/dev/null && ! grep -q '^State:[[:space:]]*Z' /proc/\(pid)/status 2>/dev/null;"
            + " do sleep 1; done; \(stop)"
        var cArguments: [UnsafeMutablePointer<CChar>?] =
            [String]([["/bin/bash", "-c"], [PostgresServer.closeInheritedFiles + script]].joined()).map { strdup($0) } + [nil]
        defer { for pointer in cArguments { free(pointer) } }
        var actions = PostgresServer.detachedFiles(output: "/dev/null")
        defer { posix_spawn_file_actions_destroy(&actions) }
        var child = pid_t()
        _ = posix_spawn(&child, "/bin/bash", &actions, nil, &cArguments, environ)
    }

    private func stopCommand(asRoot: Bool) -> String {
        let ctl = "\(binaries)/pg_ctl -D \(directory)/data -m immediate -w stop >/dev/null 2>&1"
        return (asRoot ? "runuser -u postgres -- \(ctl)" : ctl) + "; rm -rf \(directory)"
    }

    private static let stopAtExit = Mutex<String?>(nil)

    // MARK: Helpers

    static func binDirectory() -> String? {
        var candidates: [String] = []
        if let versions = try? FileManager.default.contentsOfDirectory(atPath: "/usr/lib/postgresql") {
            let sorted = versions.sorted { (Int($0) ?? 0) > (Int($1) ?? 0) }
            candidates += sorted.map { "/usr/lib/postgresql/\($0)/bin" }
        }
        candidates += ["/usr/local/pgsql/bin", "/usr/local/bin", "/usr/bin"]
        return candidates.first { dir in
            FileManager.default.isExecutableFile(atPath: dir + "/initdb")
                && FileManager.default.isExecutableFile(atPath: dir + "/pg_ctl")
        }
    }

    /// Runs a program (as the postgres user when `asRoot`) with its output in a file, and
    /// throws with that output when it fails. posix_spawn + waitpid rather than Foundation's
    /// Process: Process learns of the exit through a socket the child inherits, and the
    /// server pg_ctl leaves running inherits it too, so waitUntilExit never returns.
    @discardableResult
    static func run(_ asRoot: Bool, _ executable: String, _ arguments: [String]) throws -> String {
        let command = asRoot ? ["/usr/sbin/runuser", "-u", "postgres", "--", executable] + arguments : [executable] + arguments
        let argv = ["/bin/bash", "-c", closeInheritedFiles + "exec \"$@\"", "kitt-pg"] + command
        let outputPath = "/tmp/kitt-pg-run-\(getpid())-\(UInt32.random(in: 0...UInt32.max)).log"
        defer { unlink(outputPath) }
        var actions = detachedFiles(output: outputPath)
        defer { posix_spawn_file_actions_destroy(&actions) }
        var cArguments: [UnsafeMutablePointer<CChar>?] = argv.map { strdup($0) } + [nil]
        defer { for pointer in cArguments { free(pointer) } }
        var pid = pid_t()
        let spawned = posix_spawn(&pid, argv[0], &actions, nil, &cArguments, environ)
        guard spawned == 0 else { throw Failure("cannot run \(argv[0]): error \(spawned)") }
        var status: Int32 = 0
        while waitpid(pid, &status, 0) < 0 && errno == EINTR {}
        let text = (try? String(contentsOfFile: outputPath, encoding: .utf8)) ?? ""
        // WIFEXITED && WEXITSTATUS == 0, spelled out (the macros do not import).
        guard status & 0x7F == 0, (status >> 8) & 0xFF == 0 else {
            throw Failure("\(executable) \(arguments.joined(separator: " ")) failed (status \(status)): \(text)")
        }
        return text
    }

    /// A bash prefix closing every descriptor above 2 it inherited: the server and the
    /// watchdog must not hold the pipes `swift test` reads this process's output from (it
    /// waits for them to close after the tests end). posix_spawn on this glibc has no
    /// closefrom action Swift can call, and dash cannot name descriptors above 9.
    static let closeInheritedFiles =
        #"for fd in /proc/$$/fd/*; do n=${fd##*/}; [ "$n" -gt 2 ] 2>/dev/null && eval "exec $n>&-" 2>/dev/null; done; "#

    /// stdin from /dev/null, stdout and stderr to `output`.
    static func detachedFiles(output: String) -> posix_spawn_file_actions_t {
        var actions = posix_spawn_file_actions_t()
        posix_spawn_file_actions_init(&actions)
        posix_spawn_file_actions_addopen(&actions, 0, "/dev/null", O_RDONLY, 0)
        posix_spawn_file_actions_addopen(&actions, 1, output, O_WRONLY | O_CREAT | O_TRUNC, 0o644)
        posix_spawn_file_actions_adddup2(&actions, 1, 2)
        return actions
    }

    /// A loopback port nobody listens on right now.
    public static func freePort() throws -> Int {
        let fd = socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
        guard fd >= 0 else { throw Failure("socket failed") }
        defer { close(fd) }
        var address = sockaddr_in()
        address.sin_family = sa_family_t(AF_INET)
        address.sin_addr.s_addr = inet_addr("127.0.0.1")
        address.sin_port = 0
        let bound = withUnsafePointer(to: &address) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { bind(fd, $0, socklen_t(MemoryLayout<sockaddr_in>.size)) }
        }
        guard bound == 0 else { throw Failure("bind failed") }
        var length = socklen_t(MemoryLayout<sockaddr_in>.size)
        let named = withUnsafeMutablePointer(to: &address) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { getsockname(fd, $0, &length) }
        }
        guard named == 0 else { throw Failure("getsockname failed") }
        return Int(UInt16(bigEndian: address.sin_port))
    }

    public struct Failure: Error, CustomStringConvertible {
        public let description: String
        public init(_ description: String) { self.description = description }
    }
}
