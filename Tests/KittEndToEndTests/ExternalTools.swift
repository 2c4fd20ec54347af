import Foundation
import KittTestSupport

/// Tools some tests need (`.ci/run` installs them); a test skips with the reason when one is missing.
enum ExternalTools {
    /// True when `python3 -c "import <module>"` succeeds.
    static func hasPythonModule(_ module: String) -> Bool {
        (try? ChildProcess.run("/usr/bin/env", ["python3", "-c", "import \(module)"], timeout: 30).status) == 0
    }

    /// True when `name` is on PATH.
    static func has(_ name: String) -> Bool { InstalledTool.exists(name) }
}
