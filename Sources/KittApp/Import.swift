#if canImport(Glibc)
import Glibc
#endif
import Dispatch
import KittBase
import KittStore
import Synchronization

/// What `kitt import DIR` did.
public struct ImportReport: Sendable {
    public var imported = 0
    /// Files whose exact run is already stored (or repeated in DIR): skipped, not an error.
    public var alreadyImported = 0
    /// Files that are not a valid metrics.json (each reported through `onInvalid`).
    public var invalid = 0
    /// Set when the directory itself could not be read or the store failed: the import stopped.
    public var error: String?

    public var summary: String {
        "imported \(imported) result(s), skipped \(alreadyImported) already imported, \(invalid) invalid"
    }
}

/// How far an import is, for the progress line.
public struct ImportProgress: Sendable {
    public var filesDone: Int
    public var filesTotal: Int
    public var imported: Int
    public var elapsedSeconds: Double
    /// The files are still being counted: `filesTotal` is a lower bound, no ETA yet.
    public var counting = false

    public var rate: Double { elapsedSeconds > 0 ? Double(filesDone) / elapsedSeconds : 0 }

    /// `120000/1000000 files (12%), 21034 files/s, ETA 42s`.
    public var line: String {
        if counting { return "\(filesDone) files (still counting: \(filesTotal)+), \(Int(rate)) files/s" }
        let percent = filesTotal > 0 ? filesDone * 100 / filesTotal : 100
        let eta = rate > 0 ? Int((Double(filesTotal - filesDone) / rate).rounded(.up)) : 0
        return "\(filesDone)/\(filesTotal) files (\(percent)%), \(Int(rate)) files/s, ETA \(eta)s"
    }
}

/// `kitt import DIR`: loads every `metrics.json` under DIR (KITT's result files) into the
/// store, as sent. A file whose exact document is already stored is skipped, so importing
/// the same directory twice adds nothing.
///
/// Built for a million files: the directory is walked as a stream (no list of paths or
/// documents is kept; another thread counts the files for the ETA meanwhile), files are parsed
/// while the previous batch is being written (one transaction per batch, duplicates checked
/// inside it), and memory stays at a couple of batches whatever the number of files.
public enum ResultImporter {
    /// Documents per transaction.
    public static let defaultBatchSize = 500

    public static func run(
        directory: String, store: any DataStore, batchSize: Int = defaultBatchSize, progressEvery seconds: Double = 0.5,
        onInvalid: (_ path: String, _ reason: String) -> Void = { _, _ in },
        onProgress: (ImportProgress) -> Void = { _ in }
    ) -> ImportReport {
        var report = ImportReport()
        guard let handle = opendir(directory) else {
            report.error = "cannot read directory \(directory): \(String(cString: strerror(errno)))"
            return report
        }
        closedir(handle)

        // Counting (for the ETA) walks the tree on another thread while the import walks it:
        // on a million directories a walk takes minutes, so it must not come first.
        let counter = FileCounter(directory)
        let importStart = now()
        var lastProgress = importStart
        var done = 0
        let writer = BatchWriter(store: store)
        var batch: [ResultDocument] = []
        batch.reserveCapacity(batchSize)

        walk(directory) { path in
            done += 1
            if let document = parse(path, onInvalid: onInvalid, invalid: &report.invalid) {
                batch.append(document)
                if batch.count >= batchSize {
                    writer.submit(batch)
                    batch.removeAll(keepingCapacity: true)
                }
            }
            let time = now()
            if time - lastProgress >= seconds {
                lastProgress = time
                let (counted, finished) = counter.state
                onProgress(ImportProgress(
                    filesDone: done, filesTotal: max(counted, done), imported: writer.outcome.imported,
                    elapsedSeconds: time - importStart, counting: !finished))
            }
            return writer.outcome.error == nil
        }
        if !batch.isEmpty { writer.submit(batch) }
        let outcome = writer.finish()
        report.imported = outcome.imported
        report.alreadyImported = outcome.alreadyImported
        report.error = outcome.error
        counter.stop()
        onProgress(ImportProgress(
            filesDone: done, filesTotal: done, imported: outcome.imported, elapsedSeconds: now() - importStart))
        return report
    }

    /// The file as a result document, or nil after reporting why it is not one.
    private static func parse(_ path: String, onInvalid: (String, String) -> Void, invalid: inout Int) -> ResultDocument? {
        guard let bytes = Files.read(path, limit: (1 << 30) - 1) else {
            invalid += 1
            onInvalid(path, "unreadable: \(String(cString: strerror(errno)))")
            return nil
        }
        do {
            return try ResultDocument(bytes: bytes)
        } catch {
            invalid += 1
            onInvalid(path, error.message)
            return nil
        }
    }

    /// Calls `visit` with every `metrics.json` below `directory`, each directory's entries in
    /// name order (symbolic links are not followed). `visit` returns false to stop.
    @discardableResult
    fileprivate static func walk(_ directory: String, depth: Int = 0, _ visit: (String) -> Bool) -> Bool {
        guard depth < 64, let handle = opendir(directory) else { return true }
        var files: [String] = []
        var directories: [String] = []
        while let entry = readdir(handle) {
            let name = withUnsafeBytes(of: entry.pointee.d_name) { raw in
                String(decoding: raw.prefix { $0 != 0 }, as: UTF8.self)
            }
            if name == "." || name == ".." { continue }
            let path = directory.hasSuffix("/") ? directory + name : directory + "/" + name
            var type = entry.pointee.d_type
            if type == UInt8(DT_UNKNOWN) {  // some file systems do not fill d_type
                var info = stat()
                guard lstat(path, &info) == 0 else { continue }
                type = (info.st_mode & S_IFMT) == S_IFDIR ? UInt8(DT_DIR) : (info.st_mode & S_IFMT) == S_IFREG ? UInt8(DT_REG) : 0
            }
            if type == UInt8(DT_DIR) {
                directories.append(path)
            } else if type == UInt8(DT_REG), name == "metrics.json" {
                files.append(path)
            }
        }
        closedir(handle)
        for file in files.sorted() where !visit(file) { return false }
        for child in directories.sorted() where !walk(child, depth: depth + 1, visit) { return false }
        return true
    }

    /// The number of files `walk` visits, counted without making, sorting or keeping their
    /// paths (only directories' paths are made): the count runs alongside the import, so it
    /// must cost little next to it. `found` gets each directory's count as it goes; `stop`
    /// ends the count early.
    fileprivate static func count(_ directory: String, depth: Int = 0, stop: () -> Bool, found add: (Int) -> Void) {
        guard depth < 64, !stop(), let handle = opendir(directory) else { return }
        var found = 0
        var directories: [String] = []
        while let entry = readdir(handle) {
            var type = entry.pointee.d_type
            let (isFile, isDot, name): (Bool, Bool, String?) = withUnsafeBytes(of: entry.pointee.d_name) { raw in
                let bytes = raw.prefix { $0 != 0 }
                let dot = bytes.elementsEqual(".".utf8) || bytes.elementsEqual("..".utf8)
                let file = bytes.elementsEqual("metrics.json".utf8)
                // A name is only needed for a directory (or to look at what d_type did not tell).
                let needed = !dot && (type == UInt8(DT_DIR) || type == UInt8(DT_UNKNOWN))
                return (file, dot, needed ? String(decoding: bytes, as: UTF8.self) : nil)
            }
            if isDot { continue }
            let path = name.map { directory.hasSuffix("/") ? directory + $0 : directory + "/" + $0 }
            if type == UInt8(DT_UNKNOWN), let path {
                var info = stat()
                guard lstat(path, &info) == 0 else { continue }
                type = (info.st_mode & S_IFMT) == S_IFDIR ? UInt8(DT_DIR) : (info.st_mode & S_IFMT) == S_IFREG ? UInt8(DT_REG) : 0
            }
            if type == UInt8(DT_DIR), let path {
                directories.append(path)
            } else if type == UInt8(DT_REG), isFile {
                found += 1
            }
        }
        closedir(handle)
        add(found)
        for child in directories { count(child, depth: depth + 1, stop: stop, found: add) }
    }

    private static func now() -> Double {
        var time = timespec()
        clock_gettime(CLOCK_MONOTONIC, &time)
        return Double(time.tv_sec) + Double(time.tv_nsec) / 1e9
    }
}

/// Counts the `metrics.json` files under a directory on its own thread, for the ETA.
private final class FileCounter: Sendable {
    private let counted = Atomic<Int>(0)
    private let finished = Atomic<Bool>(false)
    private let stopping = Atomic<Bool>(false)

    init(_ directory: String) {
        DispatchQueue(label: "kitt.import.count").async { [self] in
            ResultImporter.count(directory, stop: { stopping.load(ordering: .relaxed) }) {
                counted.add($0, ordering: .relaxed)
            }
            finished.store(true, ordering: .releasing)
        }
    }

    var state: (counted: Int, finished: Bool) {
        let done = finished.load(ordering: .acquiring)
        return (counted.load(ordering: .relaxed), done)
    }

    /// Ends the count early (the import is done).
    func stop() { stopping.store(true, ordering: .relaxed) }
}

/// Writes batches on its own queue while the caller parses the next one; at most two batches
/// wait, so memory stays bounded when the disk is slower than parsing.
private final class BatchWriter: Sendable {
    struct Outcome {
        var imported = 0
        var alreadyImported = 0
        var error: String?
    }

    private let store: any DataStore
    private let queue = DispatchQueue(label: "kitt.import.writer")
    private let slots = DispatchSemaphore(value: 2)
    private let state = Mutex(Outcome())

    init(store: any DataStore) { self.store = store }

    var outcome: Outcome { state.withLock { $0 } }

    func submit(_ documents: [ResultDocument]) {
        slots.wait()
        queue.async { [self] in
            defer { slots.signal() }
            guard outcome.error == nil else { return }
            do {
                let ids = try store.results.insertNew(documents)
                let stored = ids.reduce(0) { $0 + ($1 == nil ? 0 : 1) }
                state.withLock { state in
                    state.imported += stored
                    state.alreadyImported += ids.count - stored
                }
            } catch {
                state.withLock { $0.error = "store: \(error)" }
            }
        }
    }

    /// Waits for every submitted batch.
    func finish() -> Outcome {
        queue.sync {}
        return outcome
    }
}
