import Foundation

/// A fresh directory under the system temp dir, removed when the value goes away.
public final class TempDirectory: @unchecked Sendable {
    public let path: String

    public init(_ prefix: String = "kitt-test") {
        let base = FileManager.default.temporaryDirectory.path
        path = "\(base)/\(prefix)-\(UUID().uuidString.prefix(12))"
        try? FileManager.default.createDirectory(atPath: path, withIntermediateDirectories: true)
    }

    deinit {
        try? FileManager.default.removeItem(atPath: path)
    }
}
