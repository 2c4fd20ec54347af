import KittHTTP

/// The endpoint reference: one declaration per (method, pattern) the API router registers.
/// `GET /api/v1/openapi.json`, `kitt openapi` and docs/API.md are generated from it, and a test
/// fails when a registered route has no declaration here (or a declaration no route).
public enum APIReference {
    /// Reusable schemas (`#/components/schemas/<name>`).
    static let components: [(String, APISchema)] = [
        ("Error", .fields(("error", .string("what went wrong")), required: ["error"])),
        (
            "Result",
            .object(
                [
                    ("id", .string("16 hex characters")), ("model", .string()), ("engine", .string()),
                    ("suite_name", .string()), ("timestamp", .string("ISO 8601")), ("passed", .boolean()),
                    ("total_benchmarks", .integer()), ("passed_count", .integer()), ("failed_count", .integer()),
                    ("total_time_seconds", .number()), ("kitt_version", .string()),
                    ("results", .array(.fields(
                        ("test_name", .string()), ("test_version", .string()), ("run_number", .integer()),
                        ("passed", .boolean()), ("metrics", .map(.number())), ("errors", .array(.any()))))),
                    ("system_info", .any("gpu, cpu, ram_gb, environment_type, fingerprint")),
                ], required: ["model", "engine"],
                description: "A KITT metrics.json document as sent, plus its id")
        ),
        (
            "Agent",
            .object(
                [
                    ("id", .string()), ("name", .string()), ("hostname", .string()), ("port", .integer()),
                    ("status", .string("online, offline, idle, running, busy, error, provisioned")),
                    ("gpu_info", .string()), ("gpu_count", .integer()), ("cpu_info", .string()), ("cpu_arch", .string()),
                    ("ram_gb", .number()), ("environment_type", .string()), ("fingerprint", .string()),
                    ("kitt_version", .string()), ("capabilities", .array(.string())), ("last_heartbeat", .string()),
                    ("notes", .string()), ("tags", .array(.string())),
                ], description: "A registered agent (never its token)")
        ),
        (
            "QuickTest",
            .object(
                [
                    ("id", .string()), ("agent_id", .string()), ("agent_name", .string()), ("model_path", .string()),
                    ("engine_name", .string()), ("benchmark_name", .string()), ("suite_name", .string()),
                    ("engine_mode", .string()), ("profile_id", .string()),
                    ("status", .enumeration(["queued", "dispatched", "running", "completed", "failed", "cancelled"])),
                    ("error", .string()), ("result_id", .string()), ("created_at", .string()),
                    ("started_at", .string()), ("completed_at", .string()),
                ])
        ),
        (
            "Campaign",
            .object(
                [
                    ("id", .string()), ("name", .string()), ("description", .string()), ("agent_id", .string()),
                    ("status", .enumeration(["draft", "queued", "running", "completed", "failed", "cancelled"])),
                    ("config", .ref("CampaignConfig")), ("total_runs", .integer()), ("succeeded", .integer()),
                    ("failed", .integer()), ("error", .string()), ("created_at", .string()),
                    ("started_at", .string()), ("completed_at", .string()),
                ])
        ),
        (
            "CampaignConfig",
            .object(
                [
                    ("models", .array(.fields(("name", .string()), ("path", .string()), required: ["name"]))),
                    ("engines", .array(.fields(
                        ("name", .string()), ("mode", .string()), ("profile_id", .string()), required: ["name"]))),
                    ("benchmarks", .array(.string())), ("suite_name", .string()),
                ], description: "Stored exactly as sent (unknown keys kept); defaults apply when it runs")
        ),
        ("LogLines", .fields(("lines", .array(.fields(("line", .string()), ("created_at", .string())))), required: ["lines"])),
        ("Sha256", .fields(("sha256", .string()), ("filename", .string()), required: ["sha256", "filename"])),
    ]

    static let paged = [
        APIParameter("page", "page number, from 1 (default 1)", .integer()),
        APIParameter("per_page", "items per page, 1-100 (default 25; more is clamped to 100)", .integer()),
    ]
    static let deleted = APISchema.fields(("deleted", .boolean()), required: ["deleted"])
    static let updated = APISchema.fields(("updated", .boolean()), required: ["updated"])
    static let ok = APISchema.fields(("ok", .boolean()), required: ["ok"])

    public static let declarations: [RouteDeclaration] = service + results + agents + agentBundle + models + quickTests
        + campaigns + events + engines

    static let service: [RouteDeclaration] = [
        RouteDeclaration(
            .get, "/", tag: "Service", "Links to the API, its reference and the health check",
            answer: APIAnswer(.ref("Index"))),
        RouteDeclaration(
            .get, "/api/v1", tag: "Service", "Links to the API reference and the health check",
            answer: APIAnswer(.ref("Index"))),
        RouteDeclaration(
            .get, "/api/v1/openapi.json", tag: "Service", "This API as an OpenAPI 3.1 document",
            answer: APIAnswer(.any("an OpenAPI 3.1 document"))),
        RouteDeclaration(
            .get, "/api/v1/health", tag: "Service", "Liveness",
            answer: APIAnswer(.fields(("status", .enumeration(["ok"])), required: ["status"]))),
        RouteDeclaration(
            .get, "/api/v1/ready", tag: "Service",
            "Readiness: the store answers (for load balancer health checks); 503 when it does not",
            answer: APIAnswer(.fields(
                ("status", .enumeration(["ready"])), ("store", .enumeration(["sqlite", "postgresql"])),
                required: ["status", "store"])),
            errors: [503]),
        RouteDeclaration(
            .get, "/api/v1/version", tag: "Service", "Server version",
            answer: APIAnswer(.fields(("version", .string()), ("api_version", .string()), ("name", .string())))),
        RouteDeclaration(
            .get, "/api/health", tag: "Service", "Liveness with the version (KITT v1 path)",
            answer: APIAnswer(.fields(("status", .string()), ("version", .string())))),
        RouteDeclaration(
            .get, "/metrics", tag: "Service", "Prometheus metrics (text format 0.0.4)", access: .metricsToken,
            answer: APIAnswer(.string(), mediaType: "text/plain; version=0.0.4")),
    ]

    static let results: [RouteDeclaration] = [
        RouteDeclaration(
            .get, "/api/v1/results", tag: "Results", "List results, newest first",
            query: paged + [
                APIParameter("model", "exact model"), APIParameter("engine", "exact engine"),
                APIParameter("suite_name", "exact suite"),
            ], answer: APIAnswer(.page(of: .ref("Result")))),
        RouteDeclaration(
            .get, "/api/v1/results/aggregate", tag: "Results", "Average metrics per group", access: .admin,
            query: [
                APIParameter("group_by", "grouping column (default model)", .enumeration(["model", "engine", "suite_name"])),
                APIParameter("metric", "a metric to average; may repeat"),
            ], answer: APIAnswer(.array(.map(.any(), description: "the group value, count and <metric>_avg"))))
        ,
        RouteDeclaration(
            .post, "/api/v1/results/compare", tag: "Results", "Fetch several results in the order asked",
            access: .admin, body: .fields(("ids", .array(.string())), required: ["ids"]),
            answer: APIAnswer(.array(.ref("Result")))),
        RouteDeclaration(.get, "/api/v1/results/:id", tag: "Results", "One result", answer: APIAnswer(.ref("Result"))),
        RouteDeclaration(
            .delete, "/api/v1/results/:id", tag: "Results", "Delete a result", access: .admin,
            answer: APIAnswer(deleted)),
    ]

    static let agents: [RouteDeclaration] = [
        RouteDeclaration(
            .post, "/api/v1/agents/register", tag: "Agents", "Register (or re-register) an agent", access: .agent,
            body: .object(
                [
                    ("name", .string()), ("hostname", .string()), ("port", .integer("default 8090")),
                    ("gpu_info", .string()), ("gpu_count", .integer()), ("cpu_info", .string()), ("cpu_arch", .string()),
                    ("ram_gb", .number()), ("environment_type", .string()), ("fingerprint", .string()),
                    ("kitt_version", .string()), ("capabilities", .array(.string())), ("hardware_details", .string()),
                ], required: ["name", "hostname"]),
            answer: APIAnswer(status: 201, .fields(("agent_id", .string()), ("heartbeat_interval_s", .integer())))),
        RouteDeclaration(
            .post, "/api/v1/agents/:id/heartbeat", tag: "Agents", "Heartbeat; hands out at most one queued command",
            access: .agent,
            body: .fields(
                ("status", .string("idle, running, busy, error")), ("current_task", .string()),
                ("gpu_utilization_pct", .number()), ("gpu_memory_used_gb", .number()), ("storage_gb_free", .number()),
                ("uptime_s", .number()),
                ("engines", .array(.fields(
                    ("engine", .string()), ("installed", .boolean()), ("running", .boolean()), ("version", .string()),
                    ("binary_path", .string()))))),
            answer: APIAnswer(.fields(
                ("ack", .boolean()), ("agent_id", .string()), ("commands", .array(.any())), ("settings", .map(.string()))))),
        RouteDeclaration(
            .get, "/api/v1/agents", tag: "Agents", "List agents by name", query: paged,
            answer: APIAnswer(.page(of: .ref("Agent")))),
        RouteDeclaration(.get, "/api/v1/agents/:id", tag: "Agents", "One agent (id or name)", answer: APIAnswer(.ref("Agent"))),
        RouteDeclaration(
            .patch, "/api/v1/agents/:id", tag: "Agents", "Change notes and tags", access: .admin,
            body: .fields(("notes", .string()), ("tags", .array(.string()))), answer: APIAnswer(updated)),
        RouteDeclaration(
            .delete, "/api/v1/agents/:id", tag: "Agents", "Delete an agent (its tests and campaigns stay)",
            access: .admin, answer: APIAnswer(deleted)),
        RouteDeclaration(
            .get, "/api/v1/agents/:id/settings", tag: "Agents", "The agent's settings (string values)", access: .admin,
            answer: APIAnswer(.map(.string()))),
        RouteDeclaration(
            .put, "/api/v1/agents/:id/settings", tag: "Agents", "Change settings", access: .admin,
            body: .fields(
                ("model_storage_dir", .string()), ("model_share_source", .string()), ("model_share_mount", .string()),
                ("auto_cleanup", .any("boolean or string")), ("heartbeat_interval_s", .any("10-300")),
                ("kitt_image", .string())),
            answer: APIAnswer(updated)),
        RouteDeclaration(
            .post, "/api/v1/agents/:id/results", tag: "Agents", "Report a command's status or result (202 once durable)",
            access: .agent,
            body: .fields(
                ("command_id", .string()), ("test_id", .string()), ("status", .string()), ("container_id", .string()),
                ("error", .string()), ("result_data", .ref("Result"))),
            answer: APIAnswer(status: 202, .fields(("accepted", .boolean()), ("result_id", .string())))),
        RouteDeclaration(
            .post, "/api/v1/agents/:id/cleanup", tag: "Agents", "Queue a storage cleanup", access: .admin,
            body: .fields(("model_path", .string())),
            answer: APIAnswer(status: 202, .fields(("queued", .boolean()), ("command_id", .string())))),
    ]

    static let agentBundle: [RouteDeclaration] = [
        RouteDeclaration(
            .get, "/api/v1/agent/install.sh", tag: "Agent bundle", "A bash script installing an agent against this server",
            access: .optionalAdmin,
            query: [APIParameter("name", "agent name (default: the host name)"), APIParameter("port", "1-65535", .integer())],
            answer: APIAnswer(.string(), mediaType: "text/x-shellscript")),
        RouteDeclaration(
            .get, "/api/v1/agent/package", tag: "Agent bundle", "The agent bundle (gzip tarball)",
            answer: APIAnswer(.string(), mediaType: "application/gzip")),
        RouteDeclaration(
            .get, "/api/v1/agent/package/sha256", tag: "Agent bundle", "SHA-256 of the agent bundle",
            answer: APIAnswer(.ref("Sha256"))),
        RouteDeclaration(
            .get, "/api/v1/agent/build-context", tag: "Agent bundle", "The agent's Docker build context (gzip tarball)",
            answer: APIAnswer(.string(), mediaType: "application/gzip")),
        RouteDeclaration(
            .get, "/api/v1/agent/build-context/sha256", tag: "Agent bundle", "SHA-256 of the build context",
            answer: APIAnswer(.ref("Sha256"))),
    ]

    static let models: [RouteDeclaration] = [
        RouteDeclaration(
            .get, "/api/v1/models/search", tag: "Models", "Search models through Devon",
            query: [APIParameter("q", "search text", required: true), APIParameter("limit", "at most this many", .integer())],
            answer: APIAnswer(.array(.fields(
                ("repo_id", .string()), ("name", .string()), ("source", .string()), ("size_gb", .number()),
                ("downloads", .integer())))),
            errors: [502, 503]),
        RouteDeclaration(
            .get, "/api/v1/models/local", tag: "Models", "Models on disk (Devon, its manifest, or a scan)",
            answer: APIAnswer(.array(.fields(
                ("name", .string()), ("path", .string()), ("formats", .array(.string())), ("size_gb", .number()))))),
        RouteDeclaration(
            .post, "/api/v1/models/download", tag: "Models", "Download a model through Devon", access: .admin,
            body: .fields(("repo_id", .string()), ("allow_patterns", .array(.string())), required: ["repo_id"]),
            answer: APIAnswer(status: 202, .fields(("path", .string()))), errors: [502, 503]),
        RouteDeclaration(
            .get, "/api/v1/models/downloads", tag: "Models",
            "Downloads started on this server, newest first: running, completed (path) or failed (error); "
                + "each change is also a `model_download` event. Devon reports no byte progress",
            query: paged,
            answer: APIAnswer(.array(.fields(
                ("id", .integer()), ("repo_id", .string()), ("source", .string()), ("status", .string()),
                ("started_at", .string()), ("finished_at", .string()), ("path", .string()), ("error", .string()))))),
        RouteDeclaration(
            .delete, "/api/v1/models/*repo_id", tag: "Models", "Delete a local model (repo_id contains '/')",
            access: .admin, answer: APIAnswer(deleted), errors: [400, 502]),
    ]

    static let quickTests: [RouteDeclaration] = [
        RouteDeclaration(
            .get, "/api/v1/quicktest/models", tag: "Quick tests", "Models in the manifest", query: paged,
            answer: APIAnswer(.page(of: .fields(
                ("model_id", .string()), ("path", .string()), ("source", .string()), ("size_bytes", .integer()),
                ("formats", .array(.string())))))),
        RouteDeclaration(
            .post, "/api/v1/quicktest", tag: "Quick tests", "Queue a quick test on an agent", access: .admin,
            body: .fields(
                ("agent_id", .string("id or name")), ("model_path", .string()), ("engine_name", .string()),
                ("benchmark_name", .string()), ("suite_name", .string()), ("engine_mode", .string()),
                ("profile_id", .string()), ("force", .boolean("run even if the engine does not take the format")),
                required: ["agent_id", "model_path", "engine_name"]),
            answer: APIAnswer(status: 202, .fields(("id", .string()), ("status", .string()), ("command_id", .string())))),
        RouteDeclaration(
            .get, "/api/v1/quicktest", tag: "Quick tests", "List quick tests, newest first",
            query: paged + [APIParameter("status", "filter by status"), APIParameter("agent_name", "filter by agent"),
                APIParameter("campaign_id", "filter by campaign (its runs)")],
            answer: APIAnswer(.page(of: .ref("QuickTest")))),
        RouteDeclaration(
            .get, "/api/v1/quicktest/agent-capabilities", tag: "Quick tests", "Which engines each agent can run",
            query: [APIParameter("agent_id", "one agent (id or name)")],
            answer: APIAnswer(.map(.fields(("name", .string()), ("cpu_arch", .string()), ("engines", .map(.any()))))),
            errors: [404]),
        RouteDeclaration(.get, "/api/v1/quicktest/:id", tag: "Quick tests", "One quick test", answer: APIAnswer(.ref("QuickTest"))),
        RouteDeclaration(
            .get, "/api/v1/quicktest/:id/logs", tag: "Quick tests", "A quick test's log lines",
            answer: APIAnswer(.ref("LogLines"))),
        RouteDeclaration(
            .post, "/api/v1/quicktest/:id/logs", tag: "Quick tests", "Append a log line", access: .agent,
            body: .fields(("line", .string()), required: ["line"]), answer: APIAnswer(ok)),
        RouteDeclaration(
            .post, "/api/v1/quicktest/:id/status", tag: "Quick tests", "Report a quick test's status", access: .agent,
            body: .fields(("status", .enumeration(["running", "completed", "failed"])), ("error", .string()), required: ["status"]),
            answer: APIAnswer(.fields(("ok", .boolean()), ("status", .string())))),
    ]

    static let campaigns: [RouteDeclaration] = [
        RouteDeclaration(
            .post, "/api/v1/campaigns", tag: "Campaigns", "Create a campaign (draft)", access: .admin,
            body: .fields(
                ("name", .string()), ("description", .string()), ("agent_id", .string()), ("config", .ref("CampaignConfig")),
                required: ["name"]),
            answer: APIAnswer(status: 201, .fields(("id", .string()), required: ["id"])), errors: [404]),
        RouteDeclaration(
            .get, "/api/v1/campaigns", tag: "Campaigns", "List campaigns, newest first (without config)",
            query: paged + [APIParameter("status", "filter by status")], answer: APIAnswer(.page(of: .ref("Campaign")))),
        RouteDeclaration(.get, "/api/v1/campaigns/:id", tag: "Campaigns", "One campaign", answer: APIAnswer(.ref("Campaign"))),
        RouteDeclaration(
            .delete, "/api/v1/campaigns/:id", tag: "Campaigns", "Delete a campaign", access: .admin,
            answer: APIAnswer(deleted)),
        RouteDeclaration(
            .post, "/api/v1/campaigns/:id/launch", tag: "Campaigns", "Start a draft or failed campaign", access: .admin,
            answer: APIAnswer(status: 202, .fields(("status", .string()))), errors: [400]),
        RouteDeclaration(
            .post, "/api/v1/campaigns/:id/cancel", tag: "Campaigns", "Cancel a queued or running campaign",
            access: .admin, answer: APIAnswer(.fields(("status", .string()))), errors: [400]),
        RouteDeclaration(
            .put, "/api/v1/campaigns/:id/config", tag: "Campaigns", "Replace a draft's config", access: .admin,
            body: .ref("CampaignConfig"), answer: APIAnswer(updated)),
        RouteDeclaration(
            .get, "/api/v1/campaigns/:id/logs", tag: "Campaigns", "A campaign's log lines", answer: APIAnswer(.ref("LogLines"))),
    ]

    static let events: [RouteDeclaration] = [
        RouteDeclaration(
            .get, "/api/v1/events/stream", tag: "Events", "Server-Sent Events: every event (Last-Event-ID replays)",
            answer: APIAnswer(.string(), mediaType: "text/event-stream")),
        RouteDeclaration(
            .get, "/api/v1/events/stream/:source_id", tag: "Events", "Server-Sent Events about one agent, campaign or quick test",
            answer: APIAnswer(.string(), mediaType: "text/event-stream")),
    ]

    /// Index answer schema (declared last so `components` stays the domain types).
    static let indexSchema: (String, APISchema) = (
        "Index",
        .fields(
            ("name", .string()), ("version", .string()), ("api", .string()), ("openapi", .string()),
            ("reference", .string()), ("health", .string()), ("metrics", .string()), ("web_ui", .string()))
    )
}
