import KittJSON
import KittSQLite
import KittStore
import Testing

/// Migration 4: the running totals behind `aggregate` stay equal to AVG over the metrics
/// table through inserts and deletes, and the aggregate never scans metrics.
@Suite struct AggregateTotalsTests {
    /// What `aggregate` must equal: the plain SQL over runs and metrics.
    static func fresh(_ db: Database, _ column: String, _ metric: String) throws -> [String: (Int, Double?)] {
        try db.read { c in
            var out: [String: (Int, Double?)] = [:]
            for row in try c.query(
                """
                SELECT r.\(column), COUNT(DISTINCT r.rid), AVG(CASE WHEN m.name = ?1 THEN m.value END)
                FROM runs r LEFT JOIN metrics m ON m.run = r.rid AND m.name = ?1 GROUP BY r.\(column)
                """, [.text(metric)])
            {
                out[row.string(0) ?? ""] = (row.int(1) ?? -1, row.double(2))
            }
            return out
        }
    }

    static func check(_ store: Store) throws {
        for group in ResultGroup.allCases {
            let expected = try fresh(store.database, group.rawValue, "avg_tps")
            let rows = try store.results.aggregate(groupBy: group, metrics: ["avg_tps"])
            #expect(rows.count == expected.count, "\(group): \(rows) vs \(expected)")
            for row in rows {
                let key = row[group.rawValue]?.stringValue ?? "?"
                let (count, average) = try #require(expected[key], "\(key) unexpected")
                #expect(row["count"]?.intValue == count, "\(group) \(key)")
                if let average {
                    let got = try #require(row["avg_tps_avg"]?.doubleValue, "\(group) \(key)")
                    #expect(abs(got - average) <= 1e-9 * max(1, abs(average)), "\(group) \(key): \(got) vs \(average)")
                } else {
                    #expect(row["avg_tps_avg"]?.isNull == true)
                }
            }
        }
    }

    @Test func totalsFollowInsertsAndDeletes() throws {
        let t = try TempStore()
        let store = t.store
        var ids: [String] = []
        for i in 0..<40 {
            let document = try ResultDocument(
                bytes: resultJSON(
                    model: "model-\(i % 4)", engine: ["vllm", "llama_cpp", "ollama"][i % 3],
                    suite: i % 2 == 0 ? "quick" : "standard", tps: Double(i) * 1.1 + 0.3))
            ids.append(try store.results.insert(document))
        }
        try Self.check(store)
        // Delete a third, including every run of one model: that group disappears.
        for (i, id) in ids.enumerated() where i % 3 == 0 || i % 4 == 1 {
            #expect(try store.results.delete(id: id))
        }
        try Self.check(store)
        #expect(try !store.results.aggregate(groupBy: .model, metrics: []).contains { $0["model"]?.stringValue == "model-1" })
        // An unknown metric averages to null, and the counts stay.
        let unknown = try store.results.aggregate(groupBy: .engine, metrics: ["nope"])
        #expect(unknown.allSatisfy { $0["nope_avg"]?.isNull == true && ($0["count"]?.intValue ?? 0) > 0 })
    }

    @Test func theAggregateReadsOnlyTheTotals() throws {
        let t = try TempStore()
        let plan = try t.store.database.read { c in
            try c.query(
                """
                EXPLAIN QUERY PLAN SELECT g.value, g.runs, (SELECT t.total / t.count FROM metric_totals t
                WHERE t.kind = g.kind AND t.value = g.value AND t.name = ?2) FROM result_groups g
                WHERE g.kind = ?1 ORDER BY g.value
                """, ["model", "avg_tps"]
            ).compactMap { $0.string("detail") }.joined(separator: "\n")
        }
        #expect(!plan.contains("metrics "), "\(plan)")
        #expect(!plan.contains("runs "), "\(plan)")
        #expect(plan.contains("SEARCH g USING PRIMARY KEY"), "\(plan)")
        #expect(plan.contains("SEARCH t USING PRIMARY KEY"), "\(plan)")
    }
}
