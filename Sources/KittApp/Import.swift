#if canImport(Glibc)
import Glibc
#endif
import KittBase
import KittStore

/// What `kitt import DIR` did.
public struct ImportReport: Sendable, CustomStringConvertible {
    public var imported = 0
    /// Files found but not imported, with why (already imported, malformed, unreadable, ...).
    public var skipped: [(path: String, reason: String)] = []
    /// Set when the directory itself could not be read or the store failed.
    public var error: String?

    public var description: String {
        var lines = ["imported \(imported) result(s), skipped \(skipped.count)"]
        for (path, reason) in skipped { lines.append("  skipped \(path): \(reason)") }
        if let error { lines.append("error: \(error)") }
        return lines.joined(separator: "\n")
    }
}

/// `kitt import DIR`: loads every `metrics.json` under DIR (KITT's result files) into the
/// store, as sent. A file whose exact document is already stored is skipped, so importing
/// the same directory twice adds nothing.
public enum ResultImporter {
    /// Documents per transaction: one fsync per batch instead of one per file.
    static let batchSize = 256

    public static func run(directory: String, store: Store) -> ImportReport {
        var report = ImportReport()
        var files: [String] = []
        guard collect(directory, into: &files, depth: 0) else {
            report.error = "cannot read directory \(directory)"
            return report
        }
        var batch: [ResultDocument] = []
        var seen = Set<[UInt8]>()
        func flush() {
            guard !batch.isEmpty else { return }
            do {
                report.imported += try store.results.insertAll(batch).count
            } catch {
                report.error = "store: \(error)"
            }
            batch.removeAll()
        }
        for path in files.sorted() {
            guard let bytes = Files.read(path) else {
                report.skipped.append((path, "unreadable"))
                continue
            }
            let document: ResultDocument
            do {
                document = try ResultDocument(bytes: bytes)
            } catch {
                report.skipped.append((path, error.message))
                continue
            }
            do {
                if try seen.contains(bytes) || store.results.contains(document) {
                    report.skipped.append((path, "already imported"))
                    continue
                }
            } catch {
                report.skipped.append((path, "store: \(error)"))
                continue
            }
            seen.insert(bytes)
            batch.append(document)
            if batch.count >= batchSize { flush() }
            if report.error != nil { return report }
        }
        flush()
        return report
    }

    /// Every `metrics.json` below `directory` (symbolic links are not followed).
    private static func collect(_ directory: String, into files: inout [String], depth: Int) -> Bool {
        guard depth < 64, let handle = opendir(directory) else { return false }
        defer { closedir(handle) }
        while let entry = readdir(handle) {
            let name = withUnsafeBytes(of: entry.pointee.d_name) { raw in
                String(decoding: raw.prefix { $0 != 0 }, as: UTF8.self)
            }
            if name == "." || name == ".." { continue }
            let path = directory.hasSuffix("/") ? directory + name : directory + "/" + name
            var info = stat()
            guard lstat(path, &info) == 0 else { continue }
            if (info.st_mode & S_IFMT) == S_IFDIR {
                _ = collect(path, into: &files, depth: depth + 1)
            } else if (info.st_mode & S_IFMT) == S_IFREG, name == "metrics.json" {
                files.append(path)
            }
        }
        return true
    }
}
