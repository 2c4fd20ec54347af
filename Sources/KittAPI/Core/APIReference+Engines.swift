import KittHTTP

/// Declarations of the SPEC §7.1 routes: engine profiles and commands, agent token rotation,
/// quick-test engine formats and profiles, Devon status.
extension APIReference {
    static let engineProfile = APISchema.object(
        [
            ("id", .string()), ("name", .string("unique")), ("engine", .string()),
            ("mode", .enumeration(["docker", "native"])), ("description", .string()),
            ("build_config", .map(.any())), ("runtime_config", .map(.any())), ("created_at", .string()),
            ("updated_at", .string()),
        ], required: ["id", "name", "engine"])

    static let engineCommandBody = APISchema.fields(
        ("engine_name", .string()), ("runtime_config", .map(.any())), ("model_path", .string()), required: ["engine_name"])
    static let engineCommandAnswer = APIAnswer(status: 202, .fields(("command_id", .string()), ("status", .string())))

    public static let engines: [RouteDeclaration] = [
        RouteDeclaration(
            .get, "/api/v1/engines/profiles", tag: "Engines", "Engine profiles",
            query: [APIParameter("engine", "only this engine's")],
            answer: APIAnswer(.fields(("profiles", .array(engineProfile)), required: ["profiles"]))),
        RouteDeclaration(
            .post, "/api/v1/engines/profiles", tag: "Engines", "Create an engine profile", access: .admin,
            body: .fields(
                ("name", .string()), ("engine", .string()), ("mode", .enumeration(["docker", "native"])),
                ("description", .string()), ("build_config", .map(.any())), ("runtime_config", .map(.any())),
                required: ["name", "engine"]),
            answer: APIAnswer(engineProfile, status: 201), errors: [409]),
        RouteDeclaration(.get, "/api/v1/engines/profiles/:id", tag: "Engines", "One engine profile", answer: APIAnswer(engineProfile)),
        RouteDeclaration(
            .put, "/api/v1/engines/profiles/:id", tag: "Engines", "Change an engine profile", access: .admin,
            body: .fields(
                ("name", .string()), ("engine", .string()), ("mode", .enumeration(["docker", "native"])),
                ("description", .string()), ("build_config", .map(.any())), ("runtime_config", .map(.any()))),
            answer: APIAnswer(engineProfile), errors: [409]),
        RouteDeclaration(
            .delete, "/api/v1/engines/profiles/:id", tag: "Engines", "Delete an engine profile", access: .admin,
            answer: APIAnswer(deleted)),
        RouteDeclaration(
            .get, "/api/v1/engines/status", tag: "Engines", "Engines each agent reported in its heartbeats",
            answer: APIAnswer(.fields(("matrix", .map(.array(.fields(
                ("engine", .string()), ("mode", .string()), ("version", .string()), ("binary_path", .string()),
                ("status", .string()), ("last_checked", .string()))))), required: ["matrix"]))),
        RouteDeclaration(
            .get, "/api/v1/engines/registry", tag: "Engines", "Known engines (from Config/)",
            answer: APIAnswer(.fields(("engines", .array(.fields(
                ("name", .string()), ("supported_modes", .array(.string())), ("default_mode", .string()),
                ("default_image", .string()), ("container_port", .integer())))), required: ["engines"]))),
        RouteDeclaration(
            .post, "/api/v1/engines/agents/:id/install", tag: "Engines", "Queue an engine install on an agent",
            access: .admin, body: engineCommandBody, answer: engineCommandAnswer),
        RouteDeclaration(
            .post, "/api/v1/engines/agents/:id/start", tag: "Engines", "Queue an engine start on an agent",
            access: .admin, body: engineCommandBody, answer: engineCommandAnswer),
        RouteDeclaration(
            .post, "/api/v1/engines/agents/:id/stop", tag: "Engines", "Queue an engine stop on an agent",
            access: .admin, body: engineCommandBody, answer: engineCommandAnswer),
        RouteDeclaration(
            .post, "/api/v1/agents/:id/rotate-token", tag: "Agents", "A new agent token, shown once (the old one stops working)",
            access: .admin, answer: APIAnswer(.fields(("token", .string()), ("token_prefix", .string()), required: ["token", "token_prefix"]))),
        RouteDeclaration(
            .get, "/api/v1/quicktest/engine-formats", tag: "Quick tests", "Model formats and run modes per engine",
            answer: APIAnswer(.map(.fields(
                ("formats", .array(.string())), ("modes", .array(.string())), ("default_mode", .string()))))),
        RouteDeclaration(
            .get, "/api/v1/quicktest/engine-profiles", tag: "Quick tests", "Engine profiles for the quick-test form",
            answer: APIAnswer(.fields(("profiles", .array(engineProfile)), required: ["profiles"]))),
        RouteDeclaration(
            .get, "/api/v1/devon/status", tag: "Models", "Whether Devon is configured and reachable (checked at most every 10 s)",
            answer: APIAnswer(.fields(
                ("available", .boolean()), ("url", .string()), ("reason", .enumeration(["not_configured", "unreachable"])),
                required: ["available"]))),
    ]
}
