import Foundation
import KittPostgres
import KittSQLite
import KittStore
import KittStorePostgres
import Synchronization

/// The repository tests run against both stores (issue 15): SQLite in a temp dir and
/// PostgreSQL in a fresh database of the test server. Without the PostgreSQL binaries that
/// argument is left out; `BackendTests` (KittStoreTests) and the PostgreSQL suites show why.
/// Test output names each case (`sqlite`, `postgres`) as it is spelled.
public enum Backend: String, CaseIterable, Sendable {
    case sqlite
    case postgres

    public static var available: [Backend] { PostgresServer.isAvailable ? allCases : [.sqlite] }

    public func open() throws -> OpenBackend {
        switch self {
        case .sqlite:
            let directory = FileManager.default.temporaryDirectory
                .appendingPathComponent("kitt-backend-\(UUID().uuidString)", isDirectory: true)
            try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
            let store = try Store(path: directory.appendingPathComponent("kitt.db").path)
            return OpenBackend(store, sqlite: store) {
                store.close()
                try? FileManager.default.removeItem(at: directory)
            }
        case .postgres:
            let store = try PostgresStore(try PostgresServer.freshDatabase(), connections: 4)
            return OpenBackend(store, postgres: store) { store.close() }
        }
    }
}

/// One backend's repositories, closed when the value dies.
public final class OpenBackend {
    public let backend: Backend
    public let results: any ResultsStoring
    public let agents: any AgentStoring
    public let sessions: any WebSessionStoring
    public let profiles: any EngineProfileStoring
    public let quickTests: any QuickTestStoring
    public let campaigns: any CampaignStoring
    public let administration: any AgentAdministering
    /// The SQLite store itself, for the few assertions about SQLite alone (nil on PostgreSQL).
    public let sqlite: Store?
    private let postgres: PostgresStore?
    private let cleanup: () -> Void

    init<S: DataStore>(_ store: S, sqlite: Store? = nil, postgres: PostgresStore? = nil, cleanup: @escaping () -> Void) {
        backend = sqlite == nil ? .postgres : .sqlite
        results = store.results
        agents = store.agents
        sessions = store
        profiles = store.engineProfiles
        quickTests = store.quickTests
        campaigns = store.campaigns
        administration = store.agents
        self.sqlite = sqlite
        self.postgres = postgres
        self.cleanup = cleanup
    }

    deinit { cleanup() }

    /// The first row of a query on the backend's own tables (both schemas have the same
    /// tables and columns), for tests that look at what a repository wrote. `?` placeholders
    /// (never inside string literals here) become `$1…$n` on PostgreSQL.
    public func row(_ sql: String, _ arguments: [BackendValue] = []) throws -> BackendRow? {
        if let sqlite {
            let values = arguments.map { argument -> SQLiteValue in
                switch argument {
                case .text(let text): .text(text)
                case .integer(let integer): SQLiteValue(integer)
                }
            }
            return try sqlite.database.read { try $0.queryOne(sql, values) }.map(BackendRow.sqlite)
        }
        guard let postgres else { return nil }
        let values = arguments.map { argument -> PostgresValue in
            switch argument {
            case .text(let text): .text(text)
            case .integer(let integer): PostgresValue(integer)
            }
        }
        return try postgres.pool.withConnection { try $0.queryOne(Self.numberedPlaceholders(sql), values) }
            .map(BackendRow.postgres)
    }

    /// Whether `error` is the database's own (a constraint the schema enforces, say), not a
    /// repository error.
    public func isDatabaseError(_ error: any Error) -> Bool {
        sqlite == nil ? error is PostgresError : error is SQLiteError
    }

    static func numberedPlaceholders(_ sql: String) -> String {
        var n = 0
        return sql.reduce(into: "") { out, character in
            guard character == "?" else { return out.append(character) }
            n += 1
            out += "$\(n)"
        }
    }
}

/// An argument of `OpenBackend.row`.
public enum BackendValue: Sendable, ExpressibleByStringLiteral, ExpressibleByIntegerLiteral {
    case text(String)
    case integer(Int)

    public init(stringLiteral value: String) { self = .text(value) }
    public init(integerLiteral value: Int) { self = .integer(value) }
}

/// A row from either database, read with the same typed accessors.
public enum BackendRow {
    case sqlite(Row)
    case postgres(PostgresRow)

    public func string(_ i: Int) -> String? {
        switch self {
        case .sqlite(let row): row.string(i)
        case .postgres(let row): row.string(i)
        }
    }

    public func int(_ i: Int) -> Int? {
        switch self {
        case .sqlite(let row): row.int(i)
        case .postgres(let row): row.int(i)
        }
    }

    public func double(_ i: Int) -> Double? {
        switch self {
        case .sqlite(let row): row.double(i)
        case .postgres(let row): row.double(i)
        }
    }

    public func bool(_ i: Int) -> Bool? {
        switch self {
        case .sqlite(let row): row.bool(i)
        case .postgres(let row): row.bool(i)
        }
    }
}

/// Waits (at most 30 s) for a completion-style store call.
public func waitFor<T: Sendable>(_ start: (@escaping @Sendable (Result<T, any Error>) -> Void) -> Void) throws -> T {
    let box = Mutex<Result<T, any Error>?>(nil)
    let done = DispatchSemaphore(value: 0)
    start { result in
        box.withLock { $0 = result }
        done.signal()
    }
    guard done.wait(timeout: .now() + 30) == .success, let result = box.withLock({ $0 }) else {
        throw PostgresServer.Failure("store call timed out")
    }
    return try result.get()
}
