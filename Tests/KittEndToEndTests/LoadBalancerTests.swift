import Foundation
import KittJSON
import KittTestSupport
import Testing

#if canImport(Glibc)
    import Glibc
#endif

/// nginx's binary, when installed.
private let installedNginx: String? = ["/usr/sbin/nginx", "/usr/bin/nginx"].first {
    FileManager.default.isExecutableFile(atPath: $0)
}

/// The shipped nginx sample (`Config/load-balancer/nginx-kitt.conf`) in front of two real
/// instances on one PostgreSQL database: only the lines marked EDIT are changed (addresses,
/// certificate paths), so what an operator copies is what runs here. Through nginx: requests
/// and event streams work (an event arrives while the stream stays open: kitt also sends
/// `X-Accel-Buffering: no`, so this holds even where the sample's `proxy_buffering off` is lost), and
/// when an instance is killed the other serves, then the first again after a restart.
@Suite(
    .serialized,
    .enabled(if: PostgresServer.isAvailable, "\(PostgresServer.unavailableReason ?? "")"),
    .enabled(if: installedNginx != nil, "nginx not installed (Debian: apt-get install nginx)"))
struct LoadBalancerTests {
    /// nginx running the sample with the instances' addresses and certificates filled in.
    final class Balancer: @unchecked Sendable {
        let process: ChildProcess
        let directory = TempDirectory("kitt-nginx")
        let port: Int
        /// nginx presents instance A's certificate, issued by A's CA.
        let caFile: String

        init(instancePorts: [Int], certificateDirectory: String, instanceCAs: [String]) throws {
            let sample = try String(
                contentsOfFile: APIHarness.repositoryRoot + "/Config/load-balancer/nginx-kitt.conf", encoding: .utf8)
            port = try PostgresServer.freePort()
            caFile = certificateDirectory + "/ca.pem"
            let trusted = directory.path + "/instances-ca.pem"
            let authorities = try instanceCAs.map { try String(contentsOfFile: $0, encoding: .utf8) }.joined()
            try authorities.write(toFile: trusted, atomically: false, encoding: .utf8)
            let edits: [(String, String)] = [
                ("server 10.0.0.11:8080", "server 127.0.0.1:\(instancePorts[0])"),
                ("server 10.0.0.12:8080", "server 127.0.0.1:\(instancePorts[1])"),
                ("listen 443 ssl;", "listen 127.0.0.1:\(port) ssl;"),
                ("/etc/kitt/lb.pem", certificateDirectory + "/server.pem"),
                ("/etc/kitt/lb-key.pem", certificateDirectory + "/server-key.pem"),
                ("/etc/kitt/lab-ca.pem", trusted),
                ("proxy_ssl_name kitt.lab;", "proxy_ssl_name localhost;"),
            ]
            var site = sample
            for (from, to) in edits {
                #expect(site.contains(from), "the sample still has '\(from)'")
                site = site.replacingOccurrences(of: from, with: to)
            }
            let prefix = directory.path
            let main = """
                worker_processes 1;
                error_log \(prefix)/error.log;
                pid \(prefix)/nginx.pid;
                events { worker_connections 256; }
                http {
                    access_log off;
                    client_body_temp_path \(prefix)/body;
                    proxy_temp_path \(prefix)/proxy;
                    fastcgi_temp_path \(prefix)/fastcgi;
                    uwsgi_temp_path \(prefix)/uwsgi;
                    scgi_temp_path \(prefix)/scgi;
                \(site)
                }
                """
            try main.write(toFile: prefix + "/nginx.conf", atomically: false, encoding: .utf8)
            process = try ChildProcess(
                installedNginx ?? "nginx", ["-p", prefix, "-c", prefix + "/nginx.conf", "-g", "daemon off;"])
            try waitFor("nginx to listen", timeout: 10) { !E2E.refusesConnections(port: self.port) }
        }

        func connect() throws -> RawClient { try RawClient(port: port, caFile: caFile, serverName: "localhost") }

        func call(_ method: String, _ path: String, _ body: JSON? = nil) throws -> TestResponse {
            try ScaleOutTests.call(try connect(), method, path, body)
        }

        func stop() {
            process.signal(SIGQUIT)
            _ = process.waitForExit(timeout: 10)
        }
    }

    @Test func theSampleConfigServesTwoInstancesAsOne_streamsEventsLive_andSurvivesEitherInstanceDying() throws {
        let database = try ScaleOutTests.url()
        let ports = [try PostgresServer.freePort(), try PostgresServer.freePort()]
        var a = try ScaleOutTests.Instance(database: database, port: ports[0])
        var b = try ScaleOutTests.Instance(database: database, port: ports[1])
        defer {
            a.stop()
            b.stop()
        }
        let balancer = try Balancer(
            instancePorts: ports, certificateDirectory: a.directory.path + "/certs",
            instanceCAs: [a.caFile, b.caFile])
        defer { balancer.stop() }

        #expect(try balancer.call("GET", "/api/v1/ready").json?["store"]?.stringValue == "postgresql")

        // An event stream through nginx gets an event while it stays open (buffering off).
        let stream = try balancer.connect()
        try stream.send("GET /api/v1/events/stream HTTP/1.1\r\nHost: localhost\r\n\r\n")
        _ = try stream.readUntil(": connected\n\n", timeout: 10)
        let agentID = try #require(
            try balancer.call("POST", "/api/v1/agents/register", ["name": "gpu-lb", "hostname": "gpu-lb"])
                .json?["agent_id"]?.stringValue)
        _ = try stream.readUntil(agentID, timeout: 10)

        // Either instance may die: the other serves through the same address.
        let directories = [a.directory, b.directory]
        a.kill()
        let whileADown = try balancer.call("GET", "/api/v1/agents/\(agentID)")
        #expect(whileADown.status == 200, "\(whileADown)")
        a = try ScaleOutTests.Instance(database: database, port: ports[0], directory: directories[0])
        b.kill()
        // nginx may still count A as failed for fail_timeout; the request waits for it then.
        try waitFor("a request served after B died", timeout: 20) {
            (try? balancer.call("GET", "/api/v1/agents/\(agentID)").status) == 200
        }
        b = try ScaleOutTests.Instance(database: database, port: ports[1], directory: directories[1])
        let result = try balancer.call(
            "POST", "/api/v1/agents/\(agentID)/results",
            ["command_id": "c", "status": "completed", "result_data": ScaleOutTests.resultData(model: "lb", run: 1)])
        #expect(result.status == 202, "\(result)")
        let id = try #require(result.json?["result_id"]?.stringValue)
        #expect(try balancer.call("GET", "/api/v1/results/\(id)").status == 200)
    }
}

/// HAProxy's binary, when installed.
private let installedHAProxy: String? = ["/usr/sbin/haproxy", "/usr/bin/haproxy"].first {
    FileManager.default.isExecutableFile(atPath: $0)
}

/// The shipped HAProxy sample (`Config/load-balancer/haproxy-kitt.cfg`), only its EDIT lines
/// changed, in front of two real instances: its active check of `/api/v1/ready` takes a dead
/// instance out, so requests keep being served through the same address.
@Suite(
    .serialized,
    .enabled(if: PostgresServer.isAvailable, "\(PostgresServer.unavailableReason ?? "")"),
    .enabled(if: installedHAProxy != nil, "haproxy not installed (Debian: apt-get install haproxy)"))
struct HAProxySampleTests {
    @Test func theSampleConfigChecksReadinessAndServesThroughEitherInstance() throws {
        let database = try ScaleOutTests.url()
        let ports = [try PostgresServer.freePort(), try PostgresServer.freePort()]
        let a = try ScaleOutTests.Instance(database: database, port: ports[0])
        let b = try ScaleOutTests.Instance(database: database, port: ports[1])
        defer {
            a.stop()
            b.stop()
        }
        let directory = TempDirectory("kitt-haproxy")
        let certificates = a.directory.path + "/certs"
        let bundle = directory.path + "/lb-with-key.pem"
        let trusted = directory.path + "/instances-ca.pem"
        try (String(contentsOfFile: certificates + "/server.pem", encoding: .utf8)
            + String(contentsOfFile: certificates + "/server-key.pem", encoding: .utf8))
            .write(toFile: bundle, atomically: false, encoding: .utf8)
        try (String(contentsOfFile: a.caFile, encoding: .utf8) + String(contentsOfFile: b.caFile, encoding: .utf8))
            .write(toFile: trusted, atomically: false, encoding: .utf8)
        let port = try PostgresServer.freePort()
        var config = try String(
            contentsOfFile: APIHarness.repositoryRoot + "/Config/load-balancer/haproxy-kitt.cfg", encoding: .utf8)
        for (from, to) in [
            ("bind :443 ssl crt /etc/kitt/lb-with-key.pem", "bind 127.0.0.1:\(port) ssl crt \(bundle)"),
            ("/etc/kitt/lab-ca.pem", trusted),
            ("10.0.0.11:8080", "127.0.0.1:\(ports[0])"),
            ("10.0.0.12:8080", "127.0.0.1:\(ports[1])"),
            ("kitt.lab", "localhost"),
        ] {
            #expect(config.contains(from), "the sample still has '\(from)'")
            config = config.replacingOccurrences(of: from, with: to)
        }
        try config.write(toFile: directory.path + "/haproxy.cfg", atomically: false, encoding: .utf8)
        let haproxy = installedHAProxy ?? "haproxy"
        let check = try ChildProcess.run(haproxy, ["-c", "-f", directory.path + "/haproxy.cfg"])
        #expect(check.status == 0, "haproxy -c: \(check.stdout) \(check.stderr)")
        let process = try ChildProcess(haproxy, ["-db", "-f", directory.path + "/haproxy.cfg"])
        defer {
            process.signal(SIGTERM)
            _ = process.waitForExit(timeout: 10)
        }
        try waitFor("haproxy to listen", timeout: 10) { !E2E.refusesConnections(port: port) }

        func call(_ path: String) throws -> TestResponse {
            try ScaleOutTests.call(try RawClient(port: port, caFile: a.caFile, serverName: "localhost"), "GET", path)
        }
        // The checks mark both instances up, then each answers through the balancer.
        try waitFor("ready through haproxy", timeout: 15) { (try? call("/api/v1/ready").status) == 200 }
        a.kill()
        // Two failed checks (2 s apart) take A out; meanwhile redispatch retries on B.
        for _ in 0..<10 {
            #expect(try call("/api/v1/ready").status == 200)
        }
    }
}
