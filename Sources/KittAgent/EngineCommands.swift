/// The commands that install, start and stop engines on this machine, from agent.conf lines
/// `engine.<name>.<action> = <shell command>` (action: install | start | stop), e.g.
///
///     engine.vllm.install = pip install --user vllm
///     engine.vllm.start = systemctl --user start vllm
///     engine.llama_cpp.stop = docker stop llama-server
///
/// The command runs with `/bin/sh -c`; `$1` is the engine name, `$2` the model path (may be
/// empty), `$3` the command's `runtime_config` as JSON. A start command must return once the
/// engine is up (start it in the background: `docker run -d`, `systemctl start`, `nohup ... &`).
/// An engine/action with no line is not guessed at: the command fails, saying which line to add.
public struct EngineCommands: Sendable, Equatable {
    public static let actions = ["install", "start", "stop"]

    /// `"<engine>.<action>"` → shell command.
    public private(set) var commands: [String: String] = [:]

    public init(_ commands: [String: String] = [:]) {
        self.commands = commands
    }

    /// True for config keys of the form `engine.<name>.<action>`.
    public static func isKey(_ key: String) -> Bool { split(key) != nil }

    /// The engine commands among config values.
    public static func from(_ values: [String: String]) -> EngineCommands {
        var commands: [String: String] = [:]
        for (key, value) in values {
            if let (engine, action) = split(key), !value.isEmpty { commands["\(engine).\(action)"] = value }
        }
        return EngineCommands(commands)
    }

    public func command(engine: String, action: String) -> String? {
        commands["\(engine).\(action)"]
    }

    /// The config line that would configure it (for error messages and docs).
    public static func key(engine: String, action: String) -> String { "engine.\(engine).\(action)" }

    private static func split(_ key: String) -> (engine: String, action: String)? {
        guard key.hasPrefix("engine.") else { return nil }
        let rest = key.dropFirst("engine.".count)
        guard let dot = rest.lastIndex(of: "."), dot > rest.startIndex else { return nil }
        let action = String(rest[rest.index(after: dot)...])
        guard actions.contains(action) else { return nil }
        return (String(rest[..<dot]), action)
    }
}
