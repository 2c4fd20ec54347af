import KittJSON

/// What `POST /agents/register` carries (validated by the handler).
public struct AgentRegistration: Sendable {
    public var name: String
    public var hostname: String
    public var port: Int = 8090
    public var gpuInfo: String = ""
    public var gpuCount: Int = 0
    public var cpuInfo: String = ""
    public var cpuArch: String = ""
    public var ramGB: Double = 0
    public var environmentType: String = ""
    public var fingerprint: String = ""
    public var kittVersion: String = ""
    public var capabilities: [String] = []
    public var hardwareDetails: String = ""

    public init(name: String, hostname: String) {
        self.name = name
        self.hostname = hostname
    }
}

/// One engine as an agent reports it in a heartbeat.
public struct AgentEngine: Sendable, Equatable {
    public var engine: String
    public var installed: Bool
    public var running: Bool
    public var version: String
    public var binaryPath: String

    public init(engine: String, installed: Bool = false, running: Bool = false, version: String = "", binaryPath: String = "") {
        self.engine = engine
        self.installed = installed
        self.running = running
        self.version = version
        self.binaryPath = binaryPath
    }
}

/// What `POST /agents/<id>/heartbeat` carries; nil fields leave the stored value alone.
public struct AgentHeartbeat: Sendable {
    public var status: AgentStatus?
    public var currentTask: String?
    public var gpuUtilizationPct: Double?
    public var gpuMemoryUsedGB: Double?
    public var storageGBFree: Double?
    public var uptimeS: Double?
    public var engines: [AgentEngine] = []

    /// Engines kept per agent at most (each heartbeat may add new names; SPEC §7.2 bounds).
    public static let maxEngines = 64

    public init() {}
}

/// An agent as the API shows it (no token: the hash never leaves the store). `status` is the
/// shown one: the stored status while heartbeats are fresh, else `offline`.
public struct Agent: Sendable, Equatable {
    public var id: String
    public var name: String
    public var hostname: String
    public var port: Int
    public var gpuInfo: String
    public var gpuCount: Int
    public var cpuInfo: String
    public var cpuArch: String
    public var ramGB: Double?
    public var environmentType: String
    public var fingerprint: String
    public var kittVersion: String
    /// As registered (a JSON array; KITT 1.x databases may hold any element type).
    public var capabilities: [JSON]
    public var hardwareDetails: String
    public var status: AgentStatus
    public var currentTask: String
    public var gpuUtilizationPct: Double?
    public var gpuMemoryUsedGB: Double?
    public var storageGBFree: Double?
    public var uptimeS: Double?
    public var notes: String
    public var tags: [JSON]
    public var registeredAt: String
    public var lastHeartbeat: String?
    public var updatedAt: String
    /// Its engines by name; nil in lists (only one agent's read carries them).
    public var engines: [ReportedEngine]?
}

/// Who an agent is, for auth and routing (carries the token hash: never serialize it).
public struct AgentIdentity: Sendable, Equatable {
    public let id: String
    public let name: String
    public let tokenHash: String?
    public let status: AgentStatus
    public let lastHeartbeat: String?
}

/// A queued piece of work for an agent, as a heartbeat hands it out.
public struct HandedOutCommand: Sendable {
    public let id: String
    public let testID: String?
    public let type: String
    public let payload: JSON
}

/// The outcome of a heartbeat: the canonical id, what changed, and what to answer.
public struct HeartbeatOutcome: Sendable {
    public let agentID: String
    public let name: String
    public let status: AgentStatus
    /// The status shown before this heartbeat differs from the new one (publish `agent_status`).
    public let statusChanged: Bool
    public let command: HandedOutCommand?
    /// The quick test whose command this heartbeat handed out, now `dispatched` (publish `status`).
    public let dispatchedTest: QuickTest?
    public let settings: [(key: String, value: String)]
}

public struct RegisterOutcome: Sendable {
    public let agentID: String
    public let name: String
    public let heartbeatIntervalSeconds: Int
}

/// Per-agent settings: every value is a string; these keys and defaults always exist.
public enum AgentSettings {
    public static let defaults: [(key: String, value: String)] = [
        ("model_storage_dir", "~/.kitt/models"),
        ("model_share_source", ""),
        ("model_share_mount", ""),
        ("auto_cleanup", "true"),
        ("heartbeat_interval_s", "30"),
        ("kitt_image", ""),
    ]

    public static func isKnown(_ key: String) -> Bool { defaults.contains { $0.key == key } }
}

public enum AgentStoreError: Error, Sendable, Equatable {
    /// The agent (by id or name) does not exist.
    case notFound
    /// An agent token tried to act as (or take the name of) another agent.
    case forbidden
    /// A report named a quick test or command that is not the reporting agent's (or none).
    case unknownWork(field: String, value: String)
    /// A name equal to an existing agent's id (it would shadow that agent in id-or-name lookups).
    case nameIsAnID
    /// A heartbeat would keep more engines for the agent than `AgentHeartbeat.maxEngines`.
    case tooManyEngines
}

/// What an agent's result/status report did.
public struct ReportOutcome: Sendable, Equatable {
    public var resultID: String?
    /// The quick test the report is about (given, or found by its command id).
    public var testID: String?
    /// The command this report finished when it belongs to no quick test (an engine command or
    /// a cleanup): the route publishes its outcome, since no test status change will.
    public var finishedCommand: FinishedCommand?

    public init(resultID: String?, testID: String?, finishedCommand: FinishedCommand? = nil) {
        self.resultID = resultID
        self.testID = testID
        self.finishedCommand = finishedCommand
    }
}

/// A command without a quick test, as a report left it.
public struct FinishedCommand: Sendable, Equatable {
    public var id: String
    public var type: String
    public var agentID: String
    /// `done` or `failed`.
    public var status: CommandStatus

    public init(id: String, type: String, agentID: String, status: CommandStatus) {
        self.id = id
        self.type = type
        self.agentID = agentID
        self.status = status
    }
}
