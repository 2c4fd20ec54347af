import KittJSON
import KittStore

/// The outcome of a command that belongs to no quick test (engine install/start/stop, cleanup),
/// published once as a `status` event on the agent's stream (SPEC §7.1: "its outcome is
/// reported like a test's"): `{status: completed | failed, command_id, type, agent_id, error?}`.
enum CommandOutcome {
    static func publish(_ command: FinishedCommand, error: String?, events: EventBus) {
        var data = JSONObject([
            ("status", .string(command.status == .failed ? "failed" : "completed")),
            ("command_id", .string(command.id)), ("type", .string(command.type)), ("agent_id", .string(command.agentID)),
        ])
        if command.status == .failed, let error { data["error"] = .string(error) }
        _ = events.publish("status", sources: [command.agentID, command.id], data: .object(data))
    }
}
