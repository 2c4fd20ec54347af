import KittStore

/// Where the legacy dashboard's runs come from: kitt's store (`LegacyQueries`), or a results
/// directory read as KITT 1.x read it (`LegacyResultsDirectory`, `kitt web --legacy
/// --results-dir DIR`). Every call answers from memory or a quick indexed query: handlers
/// call it on the event loop.
public protocol LegacyResultSource: Sendable {
    /// Runs, newest first, filtered by exact model and engine when given; at most `limit` (-1: all).
    func runs(model: String?, engine: String?, limit: Int) throws -> [LegacyQueries.Run]
    /// The run at `index` in the newest-first order of `runs`; nil past the end.
    func run(at index: Int) throws -> LegacyQueries.Run?
    /// Runs grouped by model and engine, sorted.
    func groups(model: String?, engine: String?) throws -> [LegacyQueries.Group]
    /// Distinct models and engines, sorted (for the filter menus).
    func distinctModelsAndEngines() throws -> (models: [String], engines: [String])
}

extension LegacyQueries: LegacyResultSource {}
