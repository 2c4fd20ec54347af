import KittHTTP
import KittJSON

/// A campaign's config: `{models: [{name, path?}], engines: [{name, mode?, profile_id?}],
/// benchmarks: [string], suite_name}`, validated from a request and stored normalized.
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

    var models: [Model] = []
    var engines: [Engine] = []
    var benchmarks: [String] = ["throughput"]
    var suiteName: String = "quick"

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

    /// Validates a request's `config` object; every problem is a 400 naming the field (and index).
    static func validate(_ object: JSONObject) throws(HTTPError) -> CampaignConfig {
        var config = CampaignConfig()
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
            config.benchmarks = []
            for (index, item) in items.enumerated() {
                guard let benchmark = item.stringValue, !benchmark.isEmpty else {
                    throw HTTPError.badRequest("'config.benchmarks[\(index)]' must be a non-empty string")
                }
                config.benchmarks.append(benchmark)
            }
        }
        if let value = object["suite_name"], !value.isNull {
            guard let suite = value.stringValue, !suite.isEmpty else {
                throw HTTPError.badRequest("'config.suite_name' must be a non-empty string")
            }
            config.suiteName = suite
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

    /// A stored config (written by `json`); nil when it is not an object.
    static func decode(stored: String) -> CampaignConfig? {
        guard let json = try? JSON(parsing: Array(stored.utf8)), let object = json.objectValue else { return nil }
        return try? validate(object)
    }

    var json: JSON {
        .object(
            JSONObject([
                (
                    "models",
                    .array(
                        models.map { model in
                            .object(JSONObject([("name", .string(model.name)), ("path", model.path.map(JSON.string) ?? .null)]))
                        })
                ),
                (
                    "engines",
                    .array(
                        engines.map { engine in
                            .object(
                                JSONObject([
                                    ("name", .string(engine.name)), ("mode", engine.mode.map(JSON.string) ?? .null),
                                    ("profile_id", engine.profileID.map(JSON.string) ?? .null),
                                ]))
                        })
                ),
                ("benchmarks", .array(benchmarks.map(JSON.string))),
                ("suite_name", .string(suiteName)),
            ]))
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
