import KittJSON
import KittStore

extension Campaign {
    /// The API representation; the list leaves out `config`.
    public func json(includeConfig: Bool) -> JSON {
        var object = JSONObject([
            ("id", .string(id)),
            ("name", .string(name)),
            ("description", .string(description)),
            ("agent_id", agentID.map(JSON.string) ?? .null),
            ("status", .string(status.rawValue)),
        ])
        if includeConfig {
            object["config"] = .raw(RawJSON(trusted: Array(config.utf8)))
        }
        object["total_runs"] = .int(totalRuns)
        object["succeeded"] = .int(succeeded)
        object["failed"] = .int(failed)
        object["next_index"] = .int(nextIndex)
        object["current_test_id"] = currentTestID.map(JSON.string) ?? .null
        object["error"] = error.map(JSON.string) ?? .null
        object["created_at"] = .string(createdAt)
        object["updated_at"] = .string(updatedAt)
        object["started_at"] = startedAt.map(JSON.string) ?? .null
        object["completed_at"] = completedAt.map(JSON.string) ?? .null
        return .object(object)
    }
}
