/// A status column read into an enum. The raw value is exactly the text stored and sent on
/// the wire. A value kitt does not know (a KITT 1.x database, an agent that reports its own
/// words, a newer kitt) becomes `.other(text)` and is written and rendered back unchanged:
/// failing the read would make the row unreadable, and mapping it onto a known case would
/// change what the API shows and what a later write stores. Build values only through
/// `init(rawValue:)` (or a literal): `.other("queued")` is not `.queued`.
///
/// String literals are accepted (`test.status == "queued"`) so comparisons read as the API
/// does; the literal goes through `init(rawValue:)`, so it lands on the known case.
public protocol StoredStatus: RawRepresentable, Hashable, Sendable, ExpressibleByStringLiteral,
    CustomStringConvertible
where RawValue == String, StringLiteralType == String {
    /// Every case but `.other`.
    static var known: [Self] { get }
    static func other(_ raw: String) -> Self
}

extension StoredStatus {
    public init(rawValue: String) { self = Self.parsed(rawValue) }

    public init(stringLiteral value: String) { self = Self.parsed(value) }

    /// The known case whose raw value is `raw`, else `.other(raw)`.
    static func parsed(_ raw: String) -> Self { known.first { $0.rawValue == raw } ?? .other(raw) }

    public var description: String { rawValue }
}

/// queued → dispatched (a heartbeat handed out its command) → running → completed | failed
/// (| cancelled: a campaign test no agent took yet).
public enum QuickTestStatus: StoredStatus {
    case queued, dispatched, running, completed, failed, cancelled
    case other(String)

    public static let known: [QuickTestStatus] = [.queued, .dispatched, .running, .completed, .failed, .cancelled]

    public var rawValue: String {
        switch self {
        case .queued: "queued"
        case .dispatched: "dispatched"
        case .running: "running"
        case .completed: "completed"
        case .failed: "failed"
        case .cancelled: "cancelled"
        case .other(let raw): raw
        }
    }

    /// Completed, failed or cancelled: nothing will move it back (late reports are ignored).
    public var isFinished: Bool { self == .completed || self == .failed || self == .cancelled }
}

/// draft → queued (launched) → running → completed | failed | cancelled; failed may be launched again.
public enum CampaignStatus: StoredStatus {
    case draft, queued, running, completed, failed, cancelled
    case other(String)

    public static let known: [CampaignStatus] = [.draft, .queued, .running, .completed, .failed, .cancelled]

    public var rawValue: String {
        switch self {
        case .draft: "draft"
        case .queued: "queued"
        case .running: "running"
        case .completed: "completed"
        case .failed: "failed"
        case .cancelled: "cancelled"
        case .other(let raw): raw
        }
    }

    /// Queued or running: the runner owns it.
    public var isActive: Bool { self == .queued || self == .running }
}

/// An agent command: queued → dispatched (handed out by a heartbeat) → done | failed.
public enum CommandStatus: StoredStatus {
    case queued, dispatched, done, failed
    case other(String)

    public static let known: [CommandStatus] = [.queued, .dispatched, .done, .failed]

    public var rawValue: String {
        switch self {
        case .queued: "queued"
        case .dispatched: "dispatched"
        case .done: "done"
        case .failed: "failed"
        case .other(let raw): raw
        }
    }
}

/// An agent's stored status: `provisioned` until it registers, then what its heartbeats say
/// (`online` when they say nothing; the words KITT agents use are known cases, any other
/// `[a-z_]` word is kept as `.other`), and `offline` once its heartbeats stop.
public enum AgentStatus: StoredStatus {
    case online, offline, idle, running, busy, error, provisioned
    case other(String)

    /// In the order `/metrics` lists them.
    public static let known: [AgentStatus] = [.online, .offline, .idle, .running, .busy, .error, .provisioned]

    public var rawValue: String {
        switch self {
        case .online: "online"
        case .offline: "offline"
        case .idle: "idle"
        case .running: "running"
        case .busy: "busy"
        case .error: "error"
        case .provisioned: "provisioned"
        case .other(let raw): raw
        }
    }

    /// Statuses only the server sets (a heartbeat may not claim them).
    public var isServerOnly: Bool { self == .provisioned || self == .offline }
}
