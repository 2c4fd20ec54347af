import KittHTTP
import KittJSON
import KittStore

/// Validation of the engines API's request bodies: every problem is a 400 naming the field.
enum EngineRequests {
    static let modes: Set<String> = ["docker", "native"]

    /// `POST /engines/profiles` (`name`, `engine` required) and `PUT` (any subset):
    /// `{name, engine, mode: docker|native, description, build_config: object, runtime_config: object}`.
    static func profileFields(_ body: JSONObject, creating: Bool) throws(HTTPError) -> EngineProfileFields {
        var fields = EngineProfileFields()
        fields.name = creating ? try body.requiredString("name") : try nonEmpty(body, "name")
        fields.engine = creating ? try body.requiredString("engine") : try nonEmpty(body, "engine")
        if let mode = try body.optionalString("mode") {
            guard modes.contains(mode) else {
                throw HTTPError.badRequest("'mode' must be docker or native, got '\(mode)'")
            }
            fields.mode = mode
        }
        fields.description = try body.optionalString("description")
        fields.buildConfig = try body.optionalObject("build_config").map { JSON.object($0).jsonString }
        fields.runtimeConfig = try body.optionalObject("runtime_config").map { JSON.object($0).jsonString }
        if !creating && fields.name == nil && fields.engine == nil && fields.mode == nil && fields.description == nil
            && fields.buildConfig == nil && fields.runtimeConfig == nil
        {
            throw HTTPError.badRequest(
                "nothing to update: give name, engine, mode, description, build_config or runtime_config")
        }
        return fields
    }

    private static func nonEmpty(_ body: JSONObject, _ key: String) throws(HTTPError) -> String? {
        guard let value = try body.optionalString(key) else { return nil }
        guard !value.isEmpty else { throw HTTPError.badRequest("'\(key)' must not be empty") }
        return value
    }

    /// What `/engines/agents/<id>/install|start|stop` asks an agent to do.
    enum Action: String, CaseIterable, Sendable {
        case install, start, stop

        /// The agent command type a heartbeat hands out.
        var commandType: String { "\(rawValue)_engine" }
    }

    /// `{"engine_name", "runtime_config"?: object, "model_path"?: string}` → the command payload
    /// `{model_path, engine_name, benchmark_name, suite_name, engine_mode: "native", profile_id,
    /// runtime_config}` (the quick test command's shape, so KITT agents parse it the same way).
    static func commandPayload(_ body: JSONObject) throws(HTTPError) -> JSON {
        let engine = try body.requiredString("engine_name")
        let runtimeConfig = try body.optionalObject("runtime_config") ?? JSONObject()
        let modelPath = try body.optionalString("model_path") ?? ""
        return .object(
            JSONObject([
                ("model_path", .string(modelPath)),
                ("engine_name", .string(engine)),
                ("benchmark_name", ""),
                ("suite_name", ""),
                ("engine_mode", "native"),
                ("profile_id", .null),
                ("runtime_config", .object(runtimeConfig)),
            ]))
    }
}
