import KittJSON

// Public ways to build the store's records from another module (the PostgreSQL store lives
// in KittStorePostgres, so that `kitt` does not link libpq before it uses it). Each forwards
// to the record's memberwise initializer, which is internal; a public init with the same
// labels would redeclare it, hence `stored(...)`.

extension QuickTest {
    public static func stored(
            id: String, agentID: String, agentName: String, modelPath: String, engineName: String, benchmarkName:
            String, suiteName: String, engineMode: String, profileID: String?, status: QuickTestStatus, commandID:
            String?, campaignID: String?, resultID: String?, error: String?, createdAt: String, startedAt: String?,
            completedAt: String?
    ) -> QuickTest {
        QuickTest(
            id: id, agentID: agentID, agentName: agentName, modelPath: modelPath, engineName: engineName,
            benchmarkName: benchmarkName, suiteName: suiteName, engineMode: engineMode, profileID: profileID,
            status: status, commandID: commandID, campaignID: campaignID, resultID: resultID, error: error,
            createdAt: createdAt, startedAt: startedAt, completedAt: completedAt
        )
    }
}

extension StatusTransition {
    public static func stored(test: QuickTest, changed: Bool) -> StatusTransition {
        StatusTransition(test: test, changed: changed)
    }
}

extension LogLine {
    public static func stored(line: String, createdAt: String) -> LogLine {
        LogLine(line: line, createdAt: createdAt)
    }
}

extension ResultsRepository.AggregateRow {
    public static func stored(value: String, count: Int, averages: [Double?]) -> ResultsRepository.AggregateRow {
        ResultsRepository.AggregateRow(value: value, count: count, averages: averages)
    }
}

extension ReportedEngine {
    public static func stored(agentID: String, engine: AgentEngine, updatedAt: String) -> ReportedEngine {
        ReportedEngine(agentID: agentID, engine: engine, updatedAt: updatedAt)
    }
}

extension RegisterOutcome {
    public static func stored(agentID: String, name: String, heartbeatIntervalSeconds: Int) -> RegisterOutcome {
        RegisterOutcome(agentID: agentID, name: name, heartbeatIntervalSeconds: heartbeatIntervalSeconds)
    }
}

extension HeartbeatOutcome {
    public static func stored(
            agentID: String, name: String, status: AgentStatus, statusChanged: Bool, command: HandedOutCommand?,
            dispatchedTest: QuickTest?, settings: [(key: String, value: String)]
    ) -> HeartbeatOutcome {
        HeartbeatOutcome(
            agentID: agentID, name: name, status: status, statusChanged: statusChanged, command: command,
            dispatchedTest: dispatchedTest, settings: settings
        )
    }
}

extension HandedOutCommand {
    public static func stored(id: String, testID: String?, type: String, payload: JSON) -> HandedOutCommand {
        HandedOutCommand(id: id, testID: testID, type: type, payload: payload)
    }
}

extension EngineProfile {
    public static func stored(
            id: String, name: String, engine: String, mode: String, description: String, buildConfig: String,
            runtimeConfig: String, createdAt: String, updatedAt: String
    ) -> EngineProfile {
        EngineProfile(
            id: id, name: name, engine: engine, mode: mode, description: description, buildConfig: buildConfig,
            runtimeConfig: runtimeConfig, createdAt: createdAt, updatedAt: updatedAt
        )
    }
}

extension CampaignStop {
    public static func stored(campaign: Campaign, cancelledTest: QuickTest?) -> CampaignStop {
        CampaignStop(campaign: campaign, cancelledTest: cancelledTest)
    }
}

extension Campaign {
    public static func stored(
            id: String, name: String, description: String, agentID: String?, status: CampaignStatus, config: String,
            totalRuns: Int, succeeded: Int, failed: Int, nextIndex: Int, currentTestID: String?, error: String?,
            createdAt: String, updatedAt: String, startedAt: String?, completedAt: String?
    ) -> Campaign {
        Campaign(
            id: id, name: name, description: description, agentID: agentID, status: status, config: config,
            totalRuns: totalRuns, succeeded: succeeded, failed: failed, nextIndex: nextIndex, currentTestID:
            currentTestID, error: error, createdAt: createdAt, updatedAt: updatedAt, startedAt: startedAt,
            completedAt: completedAt
        )
    }
}

extension AgentSummary {
    public static func stored(id: String, name: String, cpuArch: String, tokenHash: String?) -> AgentSummary {
        AgentSummary(id: id, name: name, cpuArch: cpuArch, tokenHash: tokenHash)
    }
}

extension AgentIdentity {
    public static func stored(
            id: String, name: String, tokenHash: String?, status: AgentStatus, lastHeartbeat: String?
    ) -> AgentIdentity {
        AgentIdentity(id: id, name: name, tokenHash: tokenHash, status: status, lastHeartbeat: lastHeartbeat)
    }
}

extension AgentCommand {
    public static func stored(
            id: String, agentID: String, testID: String?, type: String, payload: String, status: CommandStatus
    ) -> AgentCommand {
        AgentCommand(id: id, agentID: agentID, testID: testID, type: type, payload: payload, status: status)
    }
}

extension Agent {
    public static func stored(
            id: String, name: String, hostname: String, port: Int, gpuInfo: String, gpuCount: Int, cpuInfo: String,
            cpuArch: String, ramGB: Double?, environmentType: String, fingerprint: String, kittVersion: String,
            capabilities: [JSON], hardwareDetails: String, status: AgentStatus, currentTask: String,
            gpuUtilizationPct: Double?, gpuMemoryUsedGB: Double?, storageGBFree: Double?, uptimeS: Double?, notes:
            String, tags: [JSON], registeredAt: String, lastHeartbeat: String?, updatedAt: String, engines:
            [ReportedEngine]?
    ) -> Agent {
        Agent(
            id: id, name: name, hostname: hostname, port: port, gpuInfo: gpuInfo, gpuCount: gpuCount, cpuInfo:
            cpuInfo, cpuArch: cpuArch, ramGB: ramGB, environmentType: environmentType, fingerprint: fingerprint,
            kittVersion: kittVersion, capabilities: capabilities, hardwareDetails: hardwareDetails, status:
            status, currentTask: currentTask, gpuUtilizationPct: gpuUtilizationPct, gpuMemoryUsedGB:
            gpuMemoryUsedGB, storageGBFree: storageGBFree, uptimeS: uptimeS, notes: notes, tags: tags,
            registeredAt: registeredAt, lastHeartbeat: lastHeartbeat, updatedAt: updatedAt, engines: engines
        )
    }
}

/// The column lists and helpers the SQLite repositories read rows with, for the other backend.
public enum StoredRows {
    public static var agentColumns: String { AgentRepository.columns }
    public static var quickTestColumns: String { QuickTestRepository.columns }
    public static var campaignColumns: String { CampaignRepository.columns }
    public static var engineProfileColumns: String { EngineProfileRepository.columns }

    /// The stored status while heartbeats are fresh, else `offline`.
    public static func shownStatus(_ stored: AgentStatus, lastHeartbeat: String?, cutoff: String) -> AgentStatus {
        AgentRepository.shownStatus(stored, lastHeartbeat: lastHeartbeat, cutoff: cutoff)
    }

    /// A JSON array of strings, as the agents table stores capabilities and tags.
    public static func stringArray(_ values: [String]) -> String { AgentRepository.stringArray(values) }
}
