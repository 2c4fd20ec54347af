// libFuzzer harness for the whole API: the REAL router (Routes.makeRouter, and the legacy
// router) with a real APIContext over a SQLite store seeded through the API itself (two
// agents, results with hostile numbers, a quick test, a campaign, a local model). Built by
// Scripts/fuzz/build-api.sh, which compiles every module kitt's API needs.
//
// Each input is decoded into one request: method, a path from the router's own route table
// (`declaredRoutes`) with its `:params` filled from existing ids/names or hostile strings (or a
// raw path), a query string, headers (Authorization admin / agent A / agent B / none / junk,
// Content-Type, Last-Event-ID) and a body (none, raw bytes, or generated JSON with hostile
// numbers, deep nesting, huge strings, duplicate keys and wrong types).
// Checks, each a trap that libFuzzer reports as a crash:
//   1. no trap or memory error anywhere (ASan), whatever the request;
//   2. a deferred response is answered within 20 s;
//   3. the answer serializes to a valid HTTP response that the client parser reads back;
//   4. every 4xx/5xx is `application/json` with a `{"error": "..."}` object;
//   5. no 500 at all (nothing a client sends is an internal error);
//   6. every JSON body served is valid JSON with no key twice in one object.

import Dispatch
import Glibc
import KittAPI
import KittHTTP
import KittJSON
import KittStore

@_cdecl("LLVMFuzzerTestOneInput")
public func fuzzAPI(_ data: UnsafePointer<UInt8>, _ size: Int) -> CInt {
    let world = FuzzWorld.shared
    var input = FuzzInput(UnsafeBufferPointer(start: data, count: size))
    let (request, legacy) = world.request(from: &input)
    let router = legacy ? world.legacyRouter : world.router
    let response = FuzzWorld.settle(router.respond(to: request), request: request)
    FuzzWorld.check(response, for: request)
    world.didRun()
    return 0
}

/// Reads decisions from the fuzzer's bytes; past the end every read is 0 (so short inputs work).
struct FuzzInput {
    let bytes: UnsafeBufferPointer<UInt8>
    var position = 0

    init(_ bytes: UnsafeBufferPointer<UInt8>) { self.bytes = bytes }

    var isAtEnd: Bool { position >= bytes.count }

    mutating func byte() -> UInt8 {
        guard position < bytes.count else { return 0 }
        defer { position += 1 }
        return bytes[position]
    }

    mutating func pick<T>(_ choices: [T]) -> T { choices[Int(byte()) % choices.count] }

    /// A string taken from the input: one length byte, then that many bytes (lossy UTF-8).
    mutating func rawString() -> String {
        let length = Int(byte())
        let end = min(position + length, bytes.count)
        defer { position = end }
        return String(decoding: UnsafeBufferPointer(rebasing: bytes[min(position, end)..<end]), as: UTF8.self)
    }

    mutating func rawBytes() -> [UInt8] {
        let length = Int(byte()) << 4 | Int(byte() & 0x0F)
        let end = min(position + length, bytes.count)
        defer { position = end }
        return Array(UnsafeBufferPointer(rebasing: bytes[min(position, end)..<end]))
    }
}

final class FuzzWorld: @unchecked Sendable {
    // Built once (libFuzzer runs inputs on one thread); ids refreshed by `seed`.
    static let shared = FuzzWorld()

    let directory: String
    let store: Store
    let context: APIContext
    let router: Router
    let legacyRouter: Router
    let routes: [(method: HTTPMethod, pattern: String)]
    let legacyRoutes: [(method: HTTPMethod, pattern: String)]
    let adminToken = "fuzz-admin-token"
    var agentTokens: [String] = []
    var ids: [String] = []
    var runs = 0

    private init() {
        let base = access("/dev/shm", W_OK) == 0 ? "/dev/shm" : "/tmp"
        var template = Array("\(base)/kitt-fuzz-api-XXXXXX".utf8CString)
        directory = template.withUnsafeMutableBufferPointer { String(cString: mkdtemp($0.baseAddress!)!) }
        mkdir(directory + "/models", 0o700)
        mkdir(directory + "/models/org", 0o700)
        mkdir(directory + "/models/org/tiny-model", 0o700)
        let file = fopen(directory + "/models/org/tiny-model/config.json", "w")
        fputs("{\"model_type\": \"llama\"}", file)
        fclose(file)
        store = try! Store(path: directory + "/kitt.db", synchronous: .normal)
        var settings = APISettings()
        settings.dataDirectory = directory
        settings.modelDirectory = directory + "/models"
        settings.configDirectory = FuzzWorld.repositoryRoot + "/Config"
        context = APIContext(settings: settings, auth: Auth(adminToken: adminToken), store: store, events: EventBus())
        // The campaign runner is not started: the fuzzer drives the routes, not the campaigns.
        router = Routes.makeRouter(context: context, services: Services(context: context))
        legacyRouter = LegacyRoutes.makeRouter(context: context)
        routes = router.declaredRoutes
        legacyRoutes = legacyRouter.declaredRoutes
        seed()
        atexit { FuzzWorld.shared.removeDirectory() }
    }

    /// The store lives in /dev/shm (fast writes): it goes when the run ends.
    func removeDirectory() {
        store.close()
        for name in ["models/org/tiny-model/config.json", "kitt.db", "kitt.db-wal", "kitt.db-shm"] {
            unlink(directory + "/" + name)
        }
        for name in ["models/org/tiny-model", "models/org", "models", ""] { rmdir(directory + "/" + name) }
    }

    /// The repository root (the harness is run from it, or found from this file's path).
    static var repositoryRoot: String {
        var path = #filePath
        for _ in 0..<3 {
            if let slash = path.lastIndex(of: "/") { path = String(path[..<slash]) }
        }
        return path
    }

    /// Puts data in the store through the API: deleting routes are fuzzed too, so this runs
    /// again every few thousand inputs.
    func seed() {
        var fresh: [String] = []
        var tokens: [String] = []
        for name in ["fuzz-a", "fuzz-b"] {
            let script = call(.get, "/api/v1/agent/install.sh?name=\(name)", token: adminToken)
            guard let token = FuzzWorld.token(inScript: script.bodyBytes) else { fatalError("seed: no token for \(name)") }
            tokens.append(token)
            let registered = call(.post, "/api/v1/agents/register", token: token, body: #"{"name":"\#(name)","hostname":"\#(name).lab"}"#)
            guard let id = FuzzWorld.string("agent_id", in: registered) else { fatalError("seed: register \(name) failed") }
            fresh += [id, name]
        }
        let agentA = fresh[0]
        for numbers in [
            #""total_time_seconds":1e19,"total_benchmarks":9223372036854775807,"passed_count":-9223372036854775808"#,
            #""total_time_seconds":1e-320,"total_benchmarks":1e308,"failed_count":-0"#,
            #""total_time_seconds":-1e308,"results":[{"test_name":"t","run_number":1e300,"metrics":{"tps":1e308,"ttft":-1e308,"tiny":5e-324,"big":123456789012345678901234567890}}]"#,
        ] {
            let answer = call(
                .post, "/api/v1/agents/\(agentA)/results", token: tokens[0],
                body: #"{"status":"running","result_data":{"model":"org/tiny-model","engine":"vllm","suite_name":"quick",\#(numbers)}}"#)
            if let id = FuzzWorld.string("result_id", in: answer) { fresh.append(id) }
        }
        let test = call(
            .post, "/api/v1/quicktest", token: adminToken,
            body: #"{"agent_id":"\#(agentA)","model_path":"org/tiny-model","engine_name":"vllm"}"#)
        if let id = FuzzWorld.string("id", in: test) ?? FuzzWorld.string("test_id", in: test) { fresh.append(id) }
        let campaign = call(
            .post, "/api/v1/campaigns", token: adminToken,
            body: #"{"name":"fuzz","agent_id":"\#(agentA)","config":{"models":[{"name":"org/tiny-model"}],"engines":[{"name":"vllm"}]}}"#)
        if let id = FuzzWorld.string("id", in: campaign) { fresh.append(id) }
        ids = fresh + ["org/tiny-model", "0", "1"]
        agentTokens = tokens
    }

    func didRun() {
        runs += 1
        if runs % 5000 == 0 { seed() }
    }

    private func call(_ method: HTTPMethod, _ target: String, token: String?, body: String = "") -> HTTPResponse {
        var headers = HTTPHeaders()
        headers.add(name: "Host", value: "localhost")
        headers.add(name: "Content-Type", value: "application/json")
        if let token { headers.add(name: "Authorization", value: "Bearer \(token)") }
        let request = HTTPRequest(method: method, target: target, headers: headers, body: Array(body.utf8))
        return FuzzWorld.settle(router.respond(to: request), request: request)
    }

    static func token(inScript bytes: [UInt8]) -> String? {
        for line in String(decoding: bytes, as: UTF8.self).split(separator: "\n") where line.hasPrefix("KITT_TOKEN=") {
            return String(line.dropFirst("KITT_TOKEN=".count).filter { $0 != "'" && $0 != "\"" })
        }
        return nil
    }

    static func string(_ key: String, in response: HTTPResponse) -> String? {
        (try? JSON(parsing: response.bodyBytes))?.objectValue?[key]?.stringValue
    }

    // MARK: Building the request

    static let hostileStrings: [String] = [
        "", "0", "-1", "1", "2", "25", "100", "101", "1000000000", "1000000001", "9223372036854775807",
        "9223372036854775808", "-9223372036854775808", "-9223372036854775809", "99999999999999999999999",
        "1e308", "-0", "1e-320", "0x10", " 1", "1 ", "+1", "1.5", "\u{FF11}", "NaN", "inf", "%00", "%", "%zz",
        "..", "../../etc/passwd", "a/b", "a%2Fb", String(repeating: "a", count: 5000), "\u{0}", "é", "null",
        "true", "[]", "{}", "0123456789abcdef", "provisioned", "offline", "idle", "completed", "failed",
        "model", "engine", "suite_name", "huggingface", "vllm", "throughput", "http://x\nserver=evil",
    ]

    static let queryNames: [String] = [
        "page", "per_page", "limit", "model", "engine", "suite_name", "group_by", "metric", "status", "agent_id",
        "agent_name", "q", "source", "name", "port", "engine_url", "index", "force", "id", "ids",
    ]

    static let methods: [HTTPMethod] = [.get, .get, .post, .post, .put, .patch, .delete, .head, .options, HTTPMethod("BREW")]

    func request(from input: inout FuzzInput) -> (HTTPRequest, legacy: Bool) {
        let control = input.byte()
        let legacy = control & 0x80 != 0 && control & 0x40 != 0
        let table = legacy ? legacyRoutes : routes
        let route = input.pick(table)
        var method = control & 0x20 != 0 ? route.method : input.pick(FuzzWorld.methods)
        if control & 0x10 != 0 && control & 0x08 != 0 { method = HTTPMethod(input.rawString()) }
        var path = ""
        if control & 0x07 == 7 {
            path = "/" + input.rawString()  // a raw path: percent-encoding and router edge cases
        } else {
            for segment in route.pattern.split(separator: "/") {
                path += "/"
                if segment.hasPrefix(":") || segment.hasPrefix("*") {
                    path += PercentEncoding.encode(parameterValue(&input))
                } else {
                    path += segment
                }
            }
            if path.isEmpty { path = "/" }
            if input.byte() & 1 == 1 { path += "/" }
        }
        var query: [String] = []
        for _ in 0..<Int(input.byte() % 5) {
            let name = input.byte() % 8 == 7 ? input.rawString() : input.pick(FuzzWorld.queryNames)
            query.append(PercentEncoding.encode(name) + "=" + PercentEncoding.encode(parameterValue(&input)))
        }
        let target = query.isEmpty ? path : path + "?" + query.joined(separator: "&")

        var headers = HTTPHeaders()
        headers.add(name: "Host", value: "localhost")
        switch input.byte() % 8 {
        case 0: break
        case 1, 2: headers.add(name: "Authorization", value: "Bearer \(adminToken)")
        case 3: headers.add(name: "Authorization", value: "Bearer \(agentTokens[0])")
        case 4: headers.add(name: "Authorization", value: "Bearer \(agentTokens[1])")
        case 5: headers.add(name: "Authorization", value: "Basic \(adminToken)")
        case 6: headers.add(name: "Authorization", value: "Bearer \(input.rawString())")
        default: headers.add(name: "Authorization", value: input.rawString())
        }
        let flags = input.byte()
        if flags & 1 == 0 { headers.add(name: "Content-Type", value: flags & 2 == 0 ? "application/json" : "text/plain") }
        if flags & 4 != 0 { headers.add(name: "Last-Event-ID", value: parameterValue(&input)) }

        var body: [UInt8] = []
        switch input.byte() % 4 {
        case 0: break
        case 1: body = input.rawBytes()
        default:
            let generator = JSONGenerator(world: self)
            generator.object(&input, into: &body, depth: 0)
        }
        return (HTTPRequest(method: method, target: target, headers: headers, body: body), legacy)
    }

    func parameterValue(_ input: inout FuzzInput) -> String {
        let choice = input.byte()
        switch choice % 4 {
        case 0: return ids[Int(choice >> 2) % ids.count]
        case 1: return input.rawString()
        default: return FuzzWorld.hostileStrings[Int(input.byte()) % FuzzWorld.hostileStrings.count]
        }
    }

    // MARK: Checking the answer

    static func settle(_ response: HTTPResponse, request: HTTPRequest) -> HTTPResponse {
        guard case .deferred(let start) = response.body else { return response }
        let box = FuzzBox()
        let done = DispatchSemaphore(value: 0)
        start(ResponsePromise { later in
            box.value = later
            done.signal()
        })
        guard done.wait(timeout: .now() + 20) == .success, let later = box.value else {
            fatalError("deferred response never answered: \(request.method) \(request.target)")
        }
        return settle(later, request: request)
    }

    static func check(_ response: HTTPResponse, for request: HTTPRequest) {
        let code = response.status.code
        let what = "\(request.method) \(request.target.prefix(300)) → \(code)"
        precondition((100...599).contains(code), "status out of range: \(what)")
        if case .stream = response.body {
            precondition(code == 200, "a stream that is not a 200: \(what)")
            return  // an event stream: the subscription is not started here
        }
        let body = response.bodyBytes
        var wire: [UInt8] = []
        HTTPResponseSerializer.head(response, framing: .contentLength(body.count), keepAlive: true, into: &wire)
        wire += body
        var parser = HTTPResponseParser()
        guard (try? parser.append(wire)) != nil, let parsed = try? parser.complete(peerClosed: true),
            parsed.status == code, parsed.body == body
        else {
            fatalError("not a valid HTTP response: \(what)")
        }
        let isJSON = response.headers["Content-Type"]?.hasPrefix("application/json") ?? false
        if code >= 400 {
            precondition(isJSON, "error without a JSON body: \(what)")
            guard let error = (try? JSON(parsing: body))?.objectValue?["error"], error.stringValue != nil else {
                fatalError("error body is not {\"error\": \"...\"}: \(what): \(String(decoding: body.prefix(300), as: UTF8.self))")
            }
        }
        if code == 500 {
            fatalError("500 for a client's request: \(what): \(String(decoding: body.prefix(300), as: UTF8.self))")
        }
        if isJSON && !body.isEmpty {
            do {
                _ = try JSON(parsing: body, maxDepth: 10_000, uniqueKeys: true)
            } catch {
                fatalError("served JSON is invalid (\(error)): \(what): \(String(decoding: body.prefix(300), as: UTF8.self))")
            }
        }
    }
}

final class FuzzBox: @unchecked Sendable {
    // Written before the semaphore is signalled, read after the wait.
    var value: HTTPResponse?
}

/// JSON text from the fuzzer's bytes, written directly so it can hold what a JSON value cannot:
/// duplicate keys and numbers exactly as spelled.
struct JSONGenerator {
    let world: FuzzWorld

    static let keys: [String] = [
        "name", "hostname", "port", "gpu_count", "gpu_info", "ram_gb", "capabilities", "status", "current_task",
        "gpu_utilization_pct", "gpu_memory_used_gb", "storage_gb_free", "uptime_s", "engines", "engine", "installed",
        "running", "version", "binary_path", "command_id", "test_id", "result_data", "model", "total_time_seconds",
        "total_benchmarks", "passed_count", "failed_count", "passed", "results", "metrics", "run_number",
        "test_version", "system_info", "gpu", "count", "cores", "vram_gb", "id", "config", "models", "benchmarks",
        "suite_name", "agent_id", "model_path", "engine_name", "benchmark_name", "engine_mode", "profile_id", "force",
        "description", "notes", "tags", "heartbeat_interval_s", "error", "line", "lines", "ids", "result_ids", "metric",
        "repo_id", "source", "path", "timestamp", "container_id", "mode", "hardware_details", "kitt_version",
    ]

    static let numbers: [String] = [
        "0", "-0", "1", "-1", "1e308", "-1e308", "1e-320", "5e-324", "2.2250738585072014e-308", "9223372036854775807",
        "9223372036854775808", "-9223372036854775808", "-9223372036854775809", "1e19", "1e400", "0.5", "65535",
        "65536", "300", "10", "123456789012345678901234567890", "1E+2", "-1.5e-7",
    ]

    func object(_ input: inout FuzzInput, into out: inout [UInt8], depth: Int) {
        out.append(UInt8(ascii: "{"))
        let count = Int(input.byte() % 6)
        var previous = "model"
        for index in 0..<count {
            if index > 0 { out.append(UInt8(ascii: ",")) }
            let selector = input.byte()
            // 1 in 16: the previous key again (a duplicate key).
            let key = selector % 16 == 15 ? previous : input.pick(JSONGenerator.keys)
            previous = key
            JSONWriter.writeString(key, into: &out)
            out.append(UInt8(ascii: ":"))
            if key == "result_data" && selector & 0x10 == 0 {
                resultDocument(&input, into: &out, depth: depth + 1)
            } else {
                value(&input, into: &out, depth: depth + 1)
            }
        }
        out.append(UInt8(ascii: "}"))
    }

    /// Mostly a document that passes the required fields, so the rest of it is reached.
    func resultDocument(_ input: inout FuzzInput, into out: inout [UInt8], depth: Int) {
        out += Array(#"{"model":"org/tiny-model","engine":"vllm""#.utf8)
        var rest: [UInt8] = []
        object(&input, into: &rest, depth: depth)
        if rest.count > 2 {
            out.append(UInt8(ascii: ","))
            out += rest.dropFirst()
        } else {
            out.append(UInt8(ascii: "}"))
        }
    }

    func value(_ input: inout FuzzInput, into out: inout [UInt8], depth: Int) {
        let kind = input.byte()
        switch depth > 6 ? kind % 6 : kind % 10 {
        case 0, 1: out += Array(input.pick(JSONGenerator.numbers).utf8)
        case 2: JSONWriter.writeString(world.parameterValue(&input), into: &out)
        case 3: out += Array(input.pick(["true", "false", "null"]).utf8)
        case 4: JSONWriter.writeString(input.pick(world.ids), into: &out)
        case 5:
            // Deep nesting (past the parser's limit half the time) or a huge string.
            if kind & 0x80 != 0 {
                let levels = kind & 0x40 != 0 ? 300 : 200
                out += Array(repeating: UInt8(ascii: "["), count: levels) + Array(repeating: UInt8(ascii: "]"), count: levels)
            } else {
                JSONWriter.writeString(String(repeating: "x", count: kind & 0x40 != 0 ? 1 << 20 : 70_000), into: &out)
            }
        case 6, 7: object(&input, into: &out, depth: depth)
        default:
            out.append(UInt8(ascii: "["))
            for index in 0..<Int(input.byte() % 4) {
                if index > 0 { out.append(UInt8(ascii: ",")) }
                value(&input, into: &out, depth: depth + 1)
            }
            out.append(UInt8(ascii: "]"))
        }
    }
}
