import Foundation

/// External tools some tests run (`.ci/run` installs them). A test that needs one uses
/// `.enabled(if: InstalledTool.exists("curl"), "curl is not installed ...")`, so it skips
/// with the reason instead of failing where the tool is missing.
public enum InstalledTool {
    /// True when `name` (or an absolute path) is an executable file, looked up on PATH.
    public static func exists(_ name: String) -> Bool {
        if name.hasPrefix("/") { return FileManager.default.isExecutableFile(atPath: name) }
        let path = ProcessInfo.processInfo.environment["PATH"] ?? "/usr/local/bin:/usr/bin:/bin"
        return path.split(separator: ":").contains { FileManager.default.isExecutableFile(atPath: "\($0)/\(name)") }
    }
}
