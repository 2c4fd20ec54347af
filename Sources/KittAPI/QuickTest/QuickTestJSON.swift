import KittJSON
import KittStore

extension QuickTest {
    /// The API representation (SPEC §5 Quick tests).
    public var json: JSON {
        .object(
            JSONObject([
                ("id", .string(id)),
                ("agent_id", .string(agentID)),
                ("agent_name", .string(agentName)),
                ("model_path", .string(modelPath)),
                ("engine_name", .string(engineName)),
                ("benchmark_name", .string(benchmarkName)),
                ("suite_name", .string(suiteName)),
                ("engine_mode", .string(engineMode)),
                ("profile_id", profileID.map(JSON.string) ?? .null),
                ("status", .string(status.rawValue)),
                ("command_id", commandID.map(JSON.string) ?? .null),
                ("campaign_id", campaignID.map(JSON.string) ?? .null),
                ("result_id", resultID.map(JSON.string) ?? .null),
                ("error", error.map(JSON.string) ?? .null),
                ("created_at", .string(createdAt)),
                ("started_at", startedAt.map(JSON.string) ?? .null),
                ("completed_at", completedAt.map(JSON.string) ?? .null),
            ]))
    }
}

extension LogLine {
    /// A quick test's or a campaign's log line: `{"line", "created_at"}`.
    public var json: JSON { .object(JSONObject([("line", .string(line)), ("created_at", .string(createdAt))])) }
}
