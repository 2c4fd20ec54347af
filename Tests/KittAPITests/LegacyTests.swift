import KittHTTP
import KittJSON
import KittSQLite
import KittStore
import KittTestSupport
import Testing

@testable import KittAPI

/// The `--legacy` dashboard through its router.
@Suite struct LegacyTests {
    struct Rig {
        let harness: APIHarness
        let router: Router

        init() throws {
            harness = try APIHarness()
            router = LegacyRoutes.makeRouter(context: harness.context)
        }

        func get(_ target: String) -> TestResponse { ModelsRig.call(router, .get, target) }

        /// Inserts a run row the way the results store keeps it (columns + the document).
        func insert(
            id: String, model: String, engine: String, suite: String = "quick", passed: Bool, passedCount: Int,
            total: Int, seconds: Double, timestamp: String
        ) throws {
            let document: JSON = .object(
                JSONObject([
                    ("model", .string(model)), ("engine", .string(engine)), ("suite_name", .string(suite)),
                    ("timestamp", .string(timestamp)), ("passed", .bool(passed)), ("total_benchmarks", .int(total)),
                    ("passed_count", .int(passedCount)), ("failed_count", .int(total - passedCount)),
                    ("total_time_seconds", .double(seconds)), ("kitt_version", "1.2.0"), ("results", []),
                ]))
            try harness.store.database.write { connection in
                _ = try connection.run(
                    """
                    INSERT INTO runs (id, model, engine, suite_name, timestamp, passed, total_benchmarks,
                        passed_count, failed_count, total_time_seconds, kitt_version, document, created_at)
                    VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)
                    """,
                    [
                        .text(id), .text(model), .text(engine), .text(suite), .text(timestamp),
                        .integer(passed ? 1 : 0), .integer(Int64(total)), .integer(Int64(passedCount)),
                        .integer(Int64(total - passedCount)), .real(seconds), .text("1.2.0"),
                        .text(document.jsonString), .text(timestamp),
                    ])
            }
        }

        func seed() throws {
            try insert(
                id: "aaaaaaaaaaaaaaa1", model: "llama-3-8b", engine: "vllm", passed: true, passedCount: 3, total: 3,
                seconds: 42.25, timestamp: "2026-01-01T10:00:00Z")
            try insert(
                id: "aaaaaaaaaaaaaaa2", model: "llama-3-8b", engine: "llama_cpp", passed: false, passedCount: 1,
                total: 3, seconds: 130, timestamp: "2026-01-02T10:00:00Z")
            try insert(
                id: "aaaaaaaaaaaaaaa3", model: "<script>alert(1)</script>", engine: "ollama\"><b>x",
                suite: "s'uite&co", passed: true, passedCount: 2, total: 2, seconds: 1,
                timestamp: "2026-01-03T10:00:00Z")
            try insert(
                id: "aaaaaaaaaaaaaaa4", model: "llama-3-8b", engine: "vllm", passed: false, passedCount: 0, total: 3,
                seconds: 5, timestamp: "2025-12-31T10:00:00Z")
        }
    }

    @Test func pageListsResultsAndEscapesEverything() throws {
        let rig = try Rig()
        try rig.seed()
        let page = rig.get("/")
        #expect(page.status == 200)
        #expect(page.headers["Content-Type"] == "text/html; charset=utf-8")
        let html = page.text
        #expect(html.contains("&lt;script&gt;alert(1)&lt;/script&gt;"))
        #expect(!html.contains("<script>"))
        #expect(html.contains("ollama&quot;&gt;&lt;b&gt;x"))
        #expect(!html.contains("<b>x"))
        #expect(html.contains("s&#39;uite&amp;co"))
        #expect(html.components(separatedBy: "<tr><td").count - 1 == 4)
        #expect(html.components(separatedBy: ">PASS<").count - 1 == 2)
        #expect(html.components(separatedBy: ">FAIL<").count - 1 == 2)
        #expect(html.contains("<td class=\"num\">1/3</td>"))
        #expect(html.contains("42.3 s") || html.contains("42.2 s"))
        #expect(html.contains("2m 10s"))
        #expect(html.contains("2026-01-02 10:00:00 UTC"))
        // Newest first.
        let newest = try #require(html.range(of: "alert(1)"))
        let oldest = try #require(html.range(of: "2025-12-31"))
        #expect(newest.lowerBound < oldest.lowerBound)
    }

    @Test func pageFiltersByModelAndEngine() throws {
        let rig = try Rig()
        try rig.seed()
        let html = rig.get("/?model=llama-3-8b&engine=vllm").text
        #expect(html.components(separatedBy: "<tr><td").count - 1 == 2)
        #expect(!html.contains("llama_cpp</td>"))
        #expect(!html.contains("<td class=\"model\">&lt;script"))  // its row is filtered out
        #expect(html.contains("<option value=\"&lt;script&gt;alert(1)&lt;/script&gt;\">"))  // still a choice
        #expect(html.contains("<option value=\"vllm\" selected>"))
        let none = rig.get("/?model=nothing").text
        #expect(none.contains("No results match these filters"))
        #expect(rig.get("/?model=&engine=").text.components(separatedBy: "<tr><td").count - 1 == 4)
        let hostile = rig.get("/?model=%3Cimg%20src%3Dx%20onerror%3Dalert(1)%3E").text
        #expect(!hostile.contains("<img"))
        #expect(hostile.contains("&lt;img src=x onerror=alert(1)&gt;"))
    }

    @Test func resultsJSONByIndex() throws {
        let rig = try Rig()
        try rig.seed()
        let all = rig.get("/api/results")
        #expect(all.status == 200)
        let items = try #require(all.json?.arrayValue)
        #expect(items.count == 4)
        #expect(
            items.map { $0["id"]?.stringValue ?? "" } == [
                "aaaaaaaaaaaaaaa3", "aaaaaaaaaaaaaaa2", "aaaaaaaaaaaaaaa1", "aaaaaaaaaaaaaaa4",
            ])
        #expect(items[0].objectValue?.keys.first == "id")
        #expect(items[0]["model"]?.stringValue == "<script>alert(1)</script>")
        #expect(items[1]["total_time_seconds"]?.doubleValue == 130)

        #expect(rig.get("/api/results/1").json?["id"]?.stringValue == "aaaaaaaaaaaaaaa2")
        #expect(rig.get("/api/results/3").json?["engine"]?.stringValue == "vllm")
        #expect(rig.get("/api/results/4").status == 404)
        #expect(rig.get("/api/results/-1").status == 404)
        #expect(rig.get("/api/results/one").status == 400)
    }

    @Test func campaignsGroupByModelAndEngine() throws {
        let rig = try Rig()
        try rig.seed()
        let groups = try #require(rig.get("/api/campaigns").json?.arrayValue)
        #expect(groups.count == 3)
        let vllm = try #require(groups.first { $0["key"]?.stringValue == "llama-3-8b|vllm" })
        #expect(vllm["runs"]?.intValue == 2)
        #expect(vllm["passed"]?.intValue == 1)
        #expect(vllm["failed"]?.intValue == 1)
        let filtered = try #require(rig.get("/api/campaigns?engine=llama_cpp").json?.arrayValue)
        #expect(filtered.count == 1)
        #expect(filtered.first?["failed"]?.intValue == 1)
        #expect(rig.get("/api/campaigns?model=llama-3-8b").json?.arrayValue?.count == 2)
    }

    @Test func healthAndNoWrites() throws {
        let rig = try Rig()
        let health = rig.get("/api/health")
        #expect(health.json?["status"]?.stringValue == "ok")
        #expect(health.json?["version"]?.stringValue == KittVersion.current)
        #expect(ModelsRig.call(rig.router, .post, "/").status == 405)
        #expect(ModelsRig.call(rig.router, .delete, "/api/results/0").status == 405)
        #expect(ModelsRig.call(rig.router, .post, "/api/v1/results").status == 404)
        #expect(rig.get("/api/v1/health").status == 404)
        #expect(rig.get("/").text.contains("No results yet"))
        #expect(rig.get("/api/results").json?.arrayValue == [])
    }

    /// Stored durations may be any JSON number (the API fuzzer's first finding: 1e19 trapped
    /// in `Int(seconds.rounded())`): each renders, huge and non-finite ones as "–".
    @Test(arguments: [
        (1e19, "–"), (1e308, "–"), (-1e308, "–"), (Double.infinity, "–"), (Double.nan, "–"), (-1, "–"),
        (9.3e18, "–"), (Double.leastNonzeroMagnitude, "0.0 s"), (-0.0, "0.0 s"), (59.94, "59.9 s"),
        (42.25, "42.3 s"), (130, "2m 10s"), (3_153_599_999, "875999h 59m"),
    ])
    func duration_ofAnyStoredNumber(seconds: Double, shown: String) {
        #expect(LegacyPage.duration(seconds) == shown)
    }
}
