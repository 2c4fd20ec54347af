import KittHTTP
import KittJSON
import KittStore

/// KITT's engine management API (SPEC §7.1), with the shapes KITT answers so its UI and
/// scripts keep working:
///
///     GET    /engines/profiles[?engine=]    → {"profiles": [profile, ...]}
///     POST   /engines/profiles              admin, {name, engine, mode?, description?, build_config?, runtime_config?}
///                                           → 201 profile (400 without name/engine, 409 name taken)
///     GET    /engines/profiles/<id>         → profile (404)
///     PUT    /engines/profiles/<id>         admin, fields to change → profile
///     DELETE /engines/profiles/<id>         admin → {"deleted": true}
///     GET    /engines/status                → {"matrix": {"<agent_id>": [{engine, mode, version, binary_path, status, last_checked}]}}
///     GET    /engines/registry              → {"engines": [{name, supported_modes, default_mode, default_image, container_port}]}
///     POST   /engines/agents/<id>/install|start|stop   admin, {engine_name, runtime_config?, model_path?}
///                                           → 202 {"command_id", "status": "queued"}
///
/// A profile is `{id, name, engine, mode, description, build_config, runtime_config, created_at,
/// updated_at}`. Agent commands go out with the next heartbeat, like `run_test`.
enum EngineRoutes {
    static func register(in router: inout Router, context: APIContext, services: Services) {
        let catalog = EngineCatalog.load(configDirectory: context.settings.configDirectory)
        let profiles = context.store.engineProfiles
        let base = "/api/v1/engines"

        router.get(base + "/profiles") { request in
            let engine = request.queryValue("engine")
            return StoreWork.deferred(context.store) { .json(["profiles": .array(try profiles.list(engine: engine).map(\.json))]) }
        }

        router.post(base + "/profiles") { request in
            try context.auth.requireAdmin(request)
            let fields = try EngineRequests.profileFields(try request.jsonObject(), creating: true)
            return StoreWork.deferred(context.store) {
                try answeringConflicts { .json(try profiles.create(fields).json, status: .created) }
            }
        }

        router.get(base + "/profiles/:id") { request in
            let id = request.parameter("id")
            return StoreWork.deferred(context.store) { .json(try profile(profiles.get(id: id)).json) }
        }

        router.put(base + "/profiles/:id") { request in
            try context.auth.requireAdmin(request)
            let fields = try EngineRequests.profileFields(try request.jsonObject(), creating: false)
            let id = request.parameter("id")
            return StoreWork.deferred(context.store) {
                try answeringConflicts { .json(try profile(profiles.update(id: id, fields)).json) }
            }
        }

        router.delete(base + "/profiles/:id") { request in
            try context.auth.requireAdmin(request)
            let id = request.parameter("id")
            return StoreWork.deferred(context.store) {
                guard try profiles.delete(id: id) else { throw HTTPError.notFound("engine profile not found") }
                return .json(["deleted": true])
            }
        }

        router.get(base + "/status") { _ in
            StoreWork.deferred(context.store) { .json(statusMatrix(try context.store.agents.reportedEngines())) }
        }

        router.get(base + "/registry") { _ in .json(catalog.registryJSON) }

        for action in EngineRequests.Action.allCases {
            router.post(base + "/agents/:id/" + action.rawValue) { request in
                try context.auth.requireAdmin(request)
                let payload = try EngineRequests.commandPayload(try request.jsonObject())
                let idOrName = request.parameter("id")
                return .committed({
                    services.agents.queueEngineCommand(
                        agentIDOrName: idOrName, type: action.commandType, payload: payload, completion: $0)
                }) { commandID in
                    .json(.object(JSONObject([("command_id", .string(commandID)), ("status", "queued")])), status: .accepted)
                }
            }
        }
    }

    private static func profile(_ found: EngineProfile?) throws -> EngineProfile {
        guard let found else { throw HTTPError.notFound("engine profile not found") }
        return found
    }

    /// Store outcomes of a profile write as the API's statuses (a taken name → 409).
    private static func answeringConflicts(_ work: () throws -> HTTPResponse) throws -> HTTPResponse {
        do {
            return try work()
        } catch EngineProfileError.nameTaken(let name) {
            throw HTTPError.conflict("an engine profile named '\(name)' already exists")
        } catch EngineProfileError.missing(let field) {
            throw HTTPError.badRequest("'\(field)' is required")
        }
    }

    /// What agents reported in heartbeats, per agent: `status` is `running`, `installed` or
    /// `not_installed`; `mode` is `native` when the agent found the engine's binary on its PATH,
    /// else `docker`; `last_checked` is the heartbeat that reported it.
    static func statusMatrix(_ engines: [ReportedEngine]) -> JSON {
        var matrix = JSONObject()
        for reported in engines {
            let engine = reported.engine
            let status = engine.running ? "running" : engine.installed ? "installed" : "not_installed"
            let entry = JSON.object(
                JSONObject([
                    ("engine", .string(engine.engine)),
                    ("mode", .string(engine.binaryPath.isEmpty ? "docker" : "native")),
                    ("version", .string(engine.version)),
                    ("binary_path", .string(engine.binaryPath)),
                    ("status", .string(status)),
                    ("last_checked", .string(reported.updatedAt)),
                ]))
            matrix[reported.agentID] = .array((matrix[reported.agentID]?.arrayValue ?? []) + [entry])
        }
        return .object(JSONObject([("matrix", .object(matrix))]))
    }
}
