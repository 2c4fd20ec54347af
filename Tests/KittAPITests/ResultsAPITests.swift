import KittAPI
import KittHTTP
import KittJSON
import KittStore
import KittTestSupport
import Testing

@Suite struct ResultsAPITests {
    /// A harness with one agent and `count` results (days 1..count, models a/b alternating).
    func seeded(_ count: Int) throws -> (APIHarness, [String]) {
        let h = try APIHarness.agentFacing()
        let agent = try h.registerAgent("gpu-1")
        var ids: [String] = []
        for day in 1...count {
            ids.append(try h.postResult(agent: agent, document(model: day % 2 == 0 ? "b" : "a", engine: day <= 3 ? "vllm" : "ollama", suite: "s\(day % 3)", day: day, tps: Double(day * 10))))
        }
        return (h, ids)
    }

    func ids(_ reply: TestResponse) -> [String] {
        reply.json?["items"]?.arrayValue?.compactMap { $0["id"]?.stringValue } ?? []
    }

    @Test func listEnvelopeNewestFirstAsStoredBytes() throws {
        let (h, stored) = try seeded(5)
        let reply = try h.execute(.get, "/api/v1/results/", admin: false)
        #expect(reply.status == 200)
        #expect(reply.headers["Content-Type"] == "application/json")
        let json = try #require(reply.json)
        #expect(json["total"]?.intValue == 5)
        #expect(json["page"]?.intValue == 1)
        #expect(json["per_page"]?.intValue == 25)
        #expect(json["pages"]?.intValue == 1)
        #expect(ids(reply) == stored.reversed())
        // The item is the document as sent with "id" spliced in front.
        let sent = Array(document(model: "a", engine: "ollama", suite: "s2", day: 5, tps: 50).utf8)
        let expectedItem = Array(#"{"id":"\#(stored[4])","#.utf8) + sent.dropFirst()
        #expect(reply.text.contains(String(decoding: expectedItem, as: UTF8.self)))
    }

    @Test func paginationEdges() throws {
        let (h, stored) = try seeded(5)
        let page2 = try h.execute(.get, "/api/v1/results?page=2&per_page=2")
        #expect(page2.json?["pages"]?.intValue == 3)
        #expect(ids(page2) == [stored[2], stored[1]])
        let beyond = try h.execute(.get, "/api/v1/results?page=9&per_page=2")
        #expect(beyond.status == 200)
        #expect(beyond.json?["items"] == .array([]))
        #expect(beyond.json?["total"]?.intValue == 5)
        let clamped = try h.execute(.get, "/api/v1/results?per_page=101")
        #expect(clamped.json?["per_page"]?.intValue == 100)
        for bad in ["per_page=0", "per_page=abc", "page=0", "page=-1", "page=x"] {
            let reply = try h.execute(.get, "/api/v1/results?\(bad)")
            #expect(reply.status == 400, "\(bad)")
            #expect(reply.error != nil)
        }
    }

    @Test func filtersAreExactAndCombine() throws {
        let (h, stored) = try seeded(5)
        #expect(ids(try h.execute(.get, "/api/v1/results?model=a")) == [stored[4], stored[2], stored[0]])
        #expect(ids(try h.execute(.get, "/api/v1/results?model=a&engine=vllm")) == [stored[2], stored[0]])
        #expect(ids(try h.execute(.get, "/api/v1/results?suite_name=s1")) == [stored[3], stored[0]])
        #expect(try h.execute(.get, "/api/v1/results?model=A").json?["total"]?.intValue == 0)
        #expect(try h.execute(.get, "/api/v1/results?model=a%27%20OR%201%3D1").json?["total"]?.intValue == 0)
    }

    @Test func listReflectsNewResultsAfterCaching() throws {
        let (h, _) = try seeded(2)
        #expect(try h.execute(.get, "/api/v1/results").json?["total"]?.intValue == 2)
        #expect(try h.execute(.get, "/api/v1/results").json?["total"]?.intValue == 2)  // cached
        let agent = try h.registerAgent("gpu-1")
        _ = try h.postResult(agent: agent, document(day: 9))
        #expect(try h.execute(.get, "/api/v1/results").json?["total"]?.intValue == 3)
    }

    @Test func getAndDelete() throws {
        let (h, stored) = try seeded(2)
        let one = try h.execute(.get, "/api/v1/results/\(stored[0])", admin: false)
        #expect(one.status == 200)
        #expect(one.json?["id"]?.stringValue == stored[0])
        #expect(one.json?["model"]?.stringValue == "a")
        #expect(try h.execute(.get, "/api/v1/results/ffffffffffffffff").status == 404)

        #expect(try h.execute(.delete, "/api/v1/results/\(stored[0])", admin: false).status == 401)
        #expect(try h.execute(.delete, "/api/v1/results/\(stored[0])", token: "wrong").status == 403)
        #expect(try h.execute(.delete, "/api/v1/results/ffffffffffffffff", token: "wrong").status == 403)  // auth before existence
        let deleted = try h.execute(.delete, "/api/v1/results/\(stored[0])")
        #expect(deleted.status == 200)
        #expect(deleted.json == ["deleted": true])
        #expect(try h.execute(.delete, "/api/v1/results/\(stored[0])").status == 404)
        #expect(try h.execute(.get, "/api/v1/results/\(stored[0])").status == 404)
        #expect(try h.execute(.get, "/api/v1/results").json?["total"]?.intValue == 1)
    }

    @Test func aggregate() throws {
        let (h, _) = try seeded(4)  // a: days 1,3 (tps 10,30); b: days 2,4 (20,40)
        #expect(try h.execute(.get, "/api/v1/results/aggregate", admin: false).status == 401)
        #expect(try h.execute(.get, "/api/v1/results/aggregate", token: "nope").status == 403)
        let byModel = try h.execute(.get, "/api/v1/results/aggregate?group_by=model&metric=avg_tps&metric=ttft_ms")
        #expect(byModel.status == 200)
        #expect(byModel.json == [
            ["model": "a", "count": 2, "avg_tps_avg": 20.0, "ttft_ms_avg": 40.0],
            ["model": "b", "count": 2, "avg_tps_avg": 30.0, "ttft_ms_avg": 40.0],
        ])
        let defaultGroup = try h.execute(.get, "/api/v1/results/aggregate")
        #expect(defaultGroup.json == [["model": "a", "count": 2], ["model": "b", "count": 2]])
        let byEngine = try h.execute(.get, "/api/v1/results/aggregate?group_by=engine&metric=missing")
        #expect(byEngine.json == [["engine": "ollama", "count": 1, "missing_avg": nil], ["engine": "vllm", "count": 3, "missing_avg": nil]])
        #expect(try h.execute(.get, "/api/v1/results/aggregate?group_by=suite_name").json?.arrayValue?.count == 3)
        let bad = try h.execute(.get, "/api/v1/results/aggregate?group_by=gpu")
        #expect(bad.status == 400)
        #expect(bad.error?.contains("group_by") == true)
    }

    @Test func compare() throws {
        let (h, stored) = try seeded(3)
        let body = #"{"ids": ["\#(stored[2])", "ffffffffffffffff", "\#(stored[0])"]}"#
        #expect(try h.execute(.post, "/api/v1/results/compare", body: body, admin: false).status == 401)
        #expect(try h.execute(.post, "/api/v1/results/compare", body: body, token: "nope").status == 403)
        let reply = try h.execute(.post, "/api/v1/results/compare", body: body)
        #expect(reply.status == 200)
        #expect(reply.json?.arrayValue?.compactMap { $0["id"]?.stringValue } == [stored[2], stored[0]])
        for bad in [#"{"ids": "x"}"#, #"{"ids": [1]}"#, #"{}"#, "[]", "not json", ""] {
            #expect(try h.execute(.post, "/api/v1/results/compare", body: bad).status == 400, "\(bad)")
        }
        #expect(try h.execute(.post, "/api/v1/results/compare", body: #"{"ids": []}"#).json == .array([]))
    }

    @Test func routesAnswerWrongMethodsWith405() throws {
        let h = try APIHarness.agentFacing()
        #expect(try h.execute(.post, "/api/v1/results").status == 405)
        #expect(try h.execute(.get, "/api/v1/results/compare").status == 405)
    }
}
