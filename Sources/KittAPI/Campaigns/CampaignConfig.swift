import KittHTTP
import KittJSON

/// A campaign's config: `{models: [{name, path?}], engines: [{name, mode?, profile_id?}],
/// benchmarks?: [string], suite_name?: string, ...}` (SPEC §5, §7.1).
///
/// The document is validated and then kept *exactly as sent* (`document`): keys kitt does not
/// know (KITT's wizard sends `devon_managed`, `disk`, `engines[].suite`, ...) stay, absent
/// optional keys stay absent. Defaults (`benchmarks: ["throughput"]`, `suite_name: "quick"`)
/// are applied only to the run plan (`runs`, `suiteName`), never written into the document.
struct CampaignConfig: Sendable, Equatable {
    struct Model: Sendable, Equatable {
        var name: String
        var path: String?
    }

    struct Engine: Sendable, Equatable {
        var name: String
        var mode: String?
        var profileID: String?
    }

    /// One model × engine × benchmark run, in plan order.
    struct Run: Sendable, Equatable {
        var model: Model
        var engine: Engine
        var benchmark: String

        var modelPath: String { model.path.flatMap { $0.isEmpty ? nil : $0 } ?? model.name }
        var label: String { "\(model.name) / \(engine.name) / \(benchmark)" }
    }

    static let defaultBenchmarks = ["throughput"]
    static let defaultSuiteName = "quick"

    /// The config as sent (what is stored and served).
    var document: JSONObject
    var models: [Model] = []
    var engines: [Engine] = []
    /// As given; nil when the document has none (the run uses `defaultBenchmarks`).
    var givenBenchmarks: [String]?
    var givenSuiteName: String?

    var benchmarks: [String] { givenBenchmarks ?? CampaignConfig.defaultBenchmarks }
    var suiteName: String { givenSuiteName ?? CampaignConfig.defaultSuiteName }

    /// Models outermost, then engines, then benchmarks.
    var runs: [Run] {
        var runs: [Run] = []
        for model in models {
            for engine in engines {
                for benchmark in benchmarks { runs.append(Run(model: model, engine: engine, benchmark: benchmark)) }
            }
        }
        return runs
    }

    /// The stored text: the document re-serialized (same keys, same order, same values).
    var storedText: String { JSON.object(document).jsonString }

    /// Validates a request's `config` object; every problem is a 400 naming the field (and index).
    static func validate(_ object: JSONObject) throws(HTTPError) -> CampaignConfig {
        var config = CampaignConfig(document: object)
        for (index, item) in try array(object, "models").enumerated() {
            guard let model = item.objectValue else {
                throw HTTPError.badRequest("'config.models[\(index)]' must be an object, got \(item.typeName)")
            }
            config.models.append(
                Model(name: try name(model, "models", index), path: try string(model, "path", "models", index)))
        }
        for (index, item) in try array(object, "engines").enumerated() {
            guard let engine = item.objectValue else {
                throw HTTPError.badRequest("'config.engines[\(index)]' must be an object, got \(item.typeName)")
            }
            config.engines.append(
                Engine(
                    name: try name(engine, "engines", index), mode: try string(engine, "mode", "engines", index),
                    profileID: try string(engine, "profile_id", "engines", index)))
        }
        if let value = object["benchmarks"], !value.isNull {
            guard let items = value.arrayValue else {
                throw HTTPError.badRequest("'config.benchmarks' must be an array of strings, got \(value.typeName)")
            }
            var benchmarks: [String] = []
            for (index, item) in items.enumerated() {
                guard let benchmark = item.stringValue, !benchmark.isEmpty else {
                    throw HTTPError.badRequest("'config.benchmarks[\(index)]' must be a non-empty string")
                }
                benchmarks.append(benchmark)
            }
            config.givenBenchmarks = benchmarks
        }
        if let value = object["suite_name"], !value.isNull {
            guard let suite = value.stringValue, !suite.isEmpty else {
                throw HTTPError.badRequest("'config.suite_name' must be a non-empty string")
            }
            config.givenSuiteName = suite
        }
        try checkRunCount(config)
        return config
    }

    /// At most this many model × engine × benchmark runs: the plan is expanded in memory.
    static let maxRuns = 10_000

    private static func checkRunCount(_ config: CampaignConfig) throws(HTTPError) {
        let (pairs, o1) = config.models.count.multipliedReportingOverflow(by: config.engines.count)
        let (runs, o2) = pairs.multipliedReportingOverflow(by: config.benchmarks.count)
        guard !o1, !o2, runs <= maxRuns else {
            throw HTTPError.badRequest(
                "'config' plans too many runs (models × engines × benchmarks must be at most \(maxRuns))")
        }
    }

    /// A stored config; nil when it is not a valid config object.
    static func decode(stored: String) -> CampaignConfig? {
        guard let json = try? JSON(parsing: Array(stored.utf8)), let object = json.objectValue else { return nil }
        return try? validate(object)
    }

    private static func array(_ object: JSONObject, _ key: String) throws(HTTPError) -> [JSON] {
        guard let value = object[key], !value.isNull else { return [] }
        guard let items = value.arrayValue else {
            throw HTTPError.badRequest("'config.\(key)' must be an array, got \(value.typeName)")
        }
        return items
    }

    private static func name(_ object: JSONObject, _ list: String, _ index: Int) throws(HTTPError) -> String {
        guard let value = object["name"], !value.isNull else {
            throw HTTPError.badRequest("'config.\(list)[\(index)].name' is required")
        }
        guard let name = value.stringValue, !name.isEmpty else {
            throw HTTPError.badRequest("'config.\(list)[\(index)].name' must be a non-empty string")
        }
        return name
    }

    private static func string(_ object: JSONObject, _ key: String, _ list: String, _ index: Int) throws(HTTPError)
        -> String?
    {
        guard let value = object[key], !value.isNull else { return nil }
        guard let text = value.stringValue else {
            throw HTTPError.badRequest("'config.\(list)[\(index)].\(key)' must be a string, got \(value.typeName)")
        }
        return text
    }
}
