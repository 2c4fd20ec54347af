#if canImport(Glibc)
import Glibc
#endif
import Dispatch
import KittBase
import KittJSON
import KittStore
import Synchronization

/// `kitt web --legacy --results-dir DIR`: the legacy dashboard's runs read straight from the
/// `metrics.json` files under DIR, as KITT 1.x's dashboard did (DIR itself, `kitt-results/**`,
/// `karr-*` repositories: every `metrics.json` below DIR, dot-directories such as `.git`
/// left out, symbolic links not followed), without importing them.
///
/// The files are read at start (`load()`) and then again in the background when a request
/// finds the snapshot older than `refreshAfter` seconds: requests are answered from memory,
/// never from the disk, so a large directory never blocks an event loop. A rescan re-reads
/// only files whose size or modification time changed. The cache is bounded: at most
/// `maxFiles` files and `maxBytes` bytes of documents (what is over is left out and logged).
public final class LegacyResultsDirectory: LegacyResultSource {
    public let root: String
    let refreshAfter: Double
    let maxFiles: Int
    let maxBytes: Int
    private let log: @Sendable (String) -> Void
    private let state = Mutex(State())
    private let scanner = DispatchQueue(label: "kitt.legacy.results-dir")

    /// One scan's outcome.
    struct Snapshot: Sendable {
        /// Newest first (timestamp, then id), as the store's legacy queries order them.
        var runs: [LegacyQueries.Run] = []
        /// By path: what each file gave, to skip unchanged files on the next scan.
        var files: [String: FileEntry] = [:]
        var skipped: [(path: String, reason: String)] = []
    }

    struct FileEntry: Sendable {
        let size: Int
        let modified: Int
        let run: LegacyQueries.Run?
        let reason: String?
    }

    private struct State {
        var snapshot = Snapshot()
        var loadedAt = -Double.infinity
        var scanning = false
    }

    public init(
        root: String, refreshAfter: Double = 10, maxFiles: Int = 100_000, maxBytes: Int = 512 << 20,
        log: @escaping @Sendable (String) -> Void = { _ in }
    ) {
        self.root = root
        self.refreshAfter = refreshAfter
        self.maxFiles = maxFiles
        self.maxBytes = maxBytes
        self.log = log
    }

    /// Reads the directory now, on the caller's thread (at start, before serving).
    /// Returns how many results were found and how many files were left out.
    @discardableResult
    public func load() -> (results: Int, skipped: Int) {
        let previous = state.withLock { $0.snapshot }
        let snapshot = scan(previous: previous)
        state.withLock {
            $0.snapshot = snapshot
            $0.loadedAt = LegacyResultsDirectory.now()
        }
        return (snapshot.runs.count, snapshot.skipped.count)
    }

    /// The current runs; schedules a background rescan when they are older than `refreshAfter`.
    func currentRuns() -> [LegacyQueries.Run] {
        let now = LegacyResultsDirectory.now()
        let (runs, rescan) = state.withLock { state -> ([LegacyQueries.Run], Bool) in
            let stale = now - state.loadedAt >= refreshAfter && !state.scanning
            if stale { state.scanning = true }
            return (state.snapshot.runs, stale)
        }
        if rescan {
            scanner.async {
                let previous = self.state.withLock { $0.snapshot }
                let snapshot = self.scan(previous: previous)
                self.state.withLock {
                    $0.snapshot = snapshot
                    $0.loadedAt = LegacyResultsDirectory.now()
                    $0.scanning = false
                }
            }
        }
        return runs
    }

    // MARK: LegacyResultSource

    public func runs(model: String?, engine: String?, limit: Int) -> [LegacyQueries.Run] {
        let matching = currentRuns().filter { run in
            (model == nil || run.model == model) && (engine == nil || run.engine == engine)
        }
        return limit < 0 ? matching : Array(matching.prefix(limit))
    }

    public func run(at index: Int) -> LegacyQueries.Run? {
        let runs = currentRuns()
        return index >= 0 && index < runs.count ? runs[index] : nil
    }

    public func groups(model: String?, engine: String?) -> [LegacyQueries.Group] {
        var counts: [String: (model: String, engine: String, runs: Int, passed: Int)] = [:]
        for run in runs(model: model, engine: engine, limit: -1) {
            let key = run.model + "\u{0}" + run.engine
            var entry = counts[key] ?? (run.model, run.engine, 0, 0)
            entry.runs += 1
            if run.passed { entry.passed += 1 }
            counts[key] = entry
        }
        return counts.values
            .sorted { ($0.model, $0.engine) < ($1.model, $1.engine) }
            .map { LegacyQueries.Group(model: $0.model, engine: $0.engine, runs: $0.runs, passed: $0.passed) }
    }

    public func distinctModelsAndEngines() -> (models: [String], engines: [String]) {
        let runs = currentRuns()
        return (Set(runs.map(\.model)).sorted(), Set(runs.map(\.engine)).sorted())
    }

    // MARK: Scanning (at start, then on `scanner`)

    func scan(previous: Snapshot) -> Snapshot {
        var found: [(relative: String, size: Int, modified: Int)] = []
        var skipped: [(path: String, reason: String)] = []
        var overBound = 0
        walk("", depth: 0, into: &found, overBound: &overBound)
        if overBound > 0 {
            skipped.append(("\(overBound) more metrics.json file(s)", "over the results cache bound (\(maxFiles) files)"))
        }
        var snapshot = Snapshot()
        var bytes = 0
        for file in found.sorted(by: { $0.relative < $1.relative }) {
            let entry: FileEntry
            if let known = previous.files[file.relative], known.size == file.size, known.modified == file.modified {
                entry = known
            } else {
                entry = read(file.relative, size: file.size, modified: file.modified)
            }
            if let reason = entry.reason {
                skipped.append((file.relative, reason))
            } else if let run = entry.run {
                guard bytes + run.document.utf8.count <= maxBytes else {
                    skipped.append((file.relative, "over the results cache bound (\(maxBytes) bytes)"))
                    continue
                }
                bytes += run.document.utf8.count
                snapshot.runs.append(run)
            }
            snapshot.files[file.relative] = entry
        }
        snapshot.runs.sort { ($0.timestamp, $1.id) > ($1.timestamp, $0.id) }
        snapshot.skipped = skipped
        log("legacy: \(snapshot.runs.count) result(s) from \(root), \(skipped.count) file(s) left out")
        for (path, reason) in skipped.prefix(20) { log("legacy:   left out \(path): \(reason)") }
        return snapshot
    }

    private func read(_ relative: String, size: Int, modified: Int) -> FileEntry {
        guard size <= maxBytes, let bytes = Files.read(root + "/" + relative, limit: maxBytes) else {
            return FileEntry(size: size, modified: modified, run: nil, reason: "unreadable or too large")
        }
        do {
            let document = try ResultDocument(bytes: bytes)
            let run = LegacyQueries.Run(
                id: relative, model: document.model, engine: document.engine, suiteName: document.suiteName,
                passed: document.passed, passedCount: document.passedCount, totalBenchmarks: document.totalBenchmarks,
                totalTimeSeconds: document.totalTimeSeconds, timestamp: document.timestamp,
                document: String(decoding: document.bytes, as: UTF8.self))
            return FileEntry(size: size, modified: modified, run: run, reason: nil)
        } catch {
            return FileEntry(size: size, modified: modified, run: nil, reason: "\(error)")
        }
    }

    /// Every `metrics.json` below `root + relative`, up to `maxFiles`.
    private func walk(
        _ relative: String, depth: Int, into found: inout [(relative: String, size: Int, modified: Int)],
        overBound: inout Int
    ) {
        guard depth < 32, let directory = opendir(relative.isEmpty ? root : root + "/" + relative) else { return }
        defer { closedir(directory) }
        while let entry = readdir(directory) {
            let name = withUnsafeBytes(of: entry.pointee.d_name) { raw in
                String(decoding: raw.prefix { $0 != 0 }, as: UTF8.self)
            }
            if name.hasPrefix(".") { continue }  // ".", "..", and .git in KARR repositories
            let path = relative.isEmpty ? name : relative + "/" + name
            var info = stat()
            guard lstat(root + "/" + path, &info) == 0 else { continue }
            switch info.st_mode & S_IFMT {
            case S_IFDIR:
                walk(path, depth: depth + 1, into: &found, overBound: &overBound)
            case S_IFREG where name == "metrics.json":
                guard found.count < maxFiles else {
                    overBound += 1
                    continue
                }
                found.append((path, Int(info.st_size), Int(info.st_mtim.tv_sec) &* 1_000_000_000 &+ Int(info.st_mtim.tv_nsec)))
            default:
                break
            }
        }
    }

    private static func now() -> Double {
        var spec = timespec()
        clock_gettime(CLOCK_MONOTONIC, &spec)
        return Double(spec.tv_sec) + Double(spec.tv_nsec) / 1e9
    }
}
