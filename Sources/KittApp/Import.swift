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
/// Built for a million files, on disk as well as in the page cache. The calling thread walks
/// the tree in name order (runs are usually named in time order, and the store writes several
/// times faster when results come in order: its indexes are by time), while `readers` threads
/// scan the directories ahead of it (`DirectoryReaders`: list, read and parse, many at once);
/// the walk takes the scans back in its order, so batches, invalid-file reports and progress
/// come exactly as from one thread. Nothing grows with the number of files: no list of paths
/// or documents is kept (another thread counts the files for the ETA meanwhile), a large
/// directory is listed in sorted runs of at most `listingChunk` names (one pass over it per
/// run), readers work at most `lookahead` directories ahead per level, and batches are
/// written while the next ones are read (one transaction per batch, duplicates checked inside
/// it; at most two wait).
public enum ResultImporter {
    /// Documents per transaction. Each transaction writes every index page it touched to
    /// the WAL once: at 1,000,000 stored results 1,000 per batch imported ~20% faster than
    /// 500 (the same as 2,000, with less memory; 4,000 was slower, its pages no longer
    /// fitting the writer's cache).
    public static let defaultBatchSize = 1_000
    /// Reader threads: more than the cores, for reads waiting on the disk; while the files
    /// come from the page cache only one per core scans (`ActiveReaders`).
    public static let defaultReaders = 8
    /// Names of a directory's subdirectories sorted at a time (a directory with more is read
    /// once per run of this many).
    public static let defaultListingChunk = 65_536
    /// Directories scanned ahead of the walk, per level.
    static let lookahead = 64

    public static func run(
        directory: String, store: any DataStore, batchSize: Int = defaultBatchSize, progressEvery seconds: Double = 0.5,
        readers: Int = defaultReaders, listingChunk: Int = defaultListingChunk,
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
        let scanners = DirectoryReaders(readers: readers)
        var batch: [ResultDocument] = []
        batch.reserveCapacity(batchSize)
        // Names the walk holds in sorted runs, over all levels of a deep tree.
        var namesLeft = 4 * max(1, listingChunk)

        /// One `metrics.json`, in walk order. False to stop.
        func take(_ path: String, _ parsed: Parsed) -> Bool {
            done += 1
            switch parsed {
            case .document(let document):
                batch.append(document)
                if batch.count >= batchSize {
                    writer.submit(batch)
                    batch.removeAll(keepingCapacity: true)
                }
            case .invalid(let reason):
                report.invalid += 1
                onInvalid(path, reason)
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

        /// A scanned directory at `depth`: its file, then its subdirectories in name order.
        func walk(_ scan: DirectoryScan, depth: Int) -> Bool {
            if let file = scan.file, !take(file.path, file.parsed) { return false }
            guard depth + 1 < 64 else { return true }
            if let names = scan.subdirectories { return walk(names, in: scan.path, depth: depth + 1) }
            // Too many to carry: sorted runs of names, as many as this level may hold.
            let chunk = min(max(1, listingChunk), max(256, namesLeft))
            namesLeft -= chunk
            defer { namesLeft += chunk }
            var after: String?
            while true {
                let names = sortedSubdirectories(of: scan.path, after: after, limit: chunk)
                if !walk(names, in: scan.path, depth: depth + 1) { return false }
                guard names.count == chunk, let last = names.last else { return true }
                after = last
            }
        }

        /// Subdirectories at `depth`, scanned by the readers at most `lookahead` ahead.
        func walk(_ names: [String], in parent: String, depth: Int) -> Bool {
            var ahead: [DirectoryReaders.Slot] = []
            var asked = 0
            for _ in names.indices {
                while asked < names.count, ahead.count < lookahead {
                    ahead.append(scanners.scan(path(parent, names[asked])))
                    asked += 1
                }
                if let scan = ahead.removeFirst().wait(), !walk(scan, depth: depth) { return false }
            }
            return true
        }

        _ = walk(DirectoryScan(directory), depth: 0)
        scanners.close()
        if !batch.isEmpty { writer.submit(batch) }
        let outcome = writer.finish()
        report.imported = outcome.imported
        report.alreadyImported = outcome.alreadyImported
        report.error = outcome.error
        // Nothing is reported imported before it is on disk, however the store was opened (a
        // crash before this loses at most the last batches; importing again adds them).
        if outcome.imported > 0 {
            do { try store.syncToDisk() } catch { report.error = report.error ?? "store: \(error)" }
        }
        counter.stop()
        onProgress(ImportProgress(
            filesDone: done, filesTotal: done, imported: outcome.imported, elapsedSeconds: now() - importStart))
        return report
    }

    enum Parsed {
        case document(ResultDocument)
        /// Why the file is not a result document.
        case invalid(String)
    }

    /// The file as a result document, or why it is not one.
    static func parse(_ path: String) -> Parsed {
        guard let bytes = Files.read(path, limit: (1 << 30) - 1) else {
            return .invalid("unreadable: \(String(cString: strerror(errno)))")
        }
        do {
            return .document(try ResultDocument(bytes: bytes))
        } catch {
            return .invalid(error.message)
        }
    }

    static func path(_ directory: String, _ name: String) -> String {
        directory.hasSuffix("/") ? directory + name : directory + "/" + name
    }

    /// What the import looks at in a directory.
    enum EntryKind {
        case directory
        /// A regular file named exactly `metrics.json`.
        case metricsFile
    }

    /// Calls `visit` with the name of each subdirectory and `metrics.json` of `directory` as
    /// the file system lists them, while reading it (no list is made: a directory may hold a
    /// million runs). Symbolic links are neither (never followed). `visit` returns false to
    /// stop. A directory that cannot be opened has no entries.
    static func forEachEntry(of directory: String, _ visit: (EntryKind, String) -> Bool) {
        guard let handle = opendir(directory) else { return }
        defer { closedir(handle) }
        while let entry = readdir(handle) {
            let listedType = entry.pointee.d_type
            let (isMetrics, name): (Bool, String?) = withUnsafeBytes(of: entry.pointee.d_name) { raw in
                let bytes = raw.prefix { $0 != 0 }
                if bytes.elementsEqual(".".utf8) || bytes.elementsEqual("..".utf8) { return (false, nil) }
                let isMetrics = bytes.elementsEqual("metrics.json".utf8)
                // A name is only made for what may be visited (or to look at what d_type did not tell).
                let needed = isMetrics || listedType == UInt8(DT_DIR) || listedType == UInt8(DT_UNKNOWN)
                return (isMetrics, needed ? String(decoding: bytes, as: UTF8.self) : nil)
            }
            guard let name else { continue }
            var type = listedType
            if type == UInt8(DT_UNKNOWN) {  // some file systems do not fill d_type
                var info = stat()
                guard lstat(path(directory, name), &info) == 0 else { continue }
                type = (info.st_mode & S_IFMT) == S_IFDIR ? UInt8(DT_DIR) : (info.st_mode & S_IFMT) == S_IFREG ? UInt8(DT_REG) : 0
            }
            if type == UInt8(DT_DIR) {
                if !visit(.directory, name) { break }
            } else if type == UInt8(DT_REG), isMetrics {
                if !visit(.metricsFile, name) { break }
            }
        }
    }

    /// The first `limit` subdirectory names of `directory` after `after`, in name order: one
    /// pass over the directory, holding at most twice `limit` names.
    static func sortedSubdirectories(of directory: String, after: String?, limit: Int) -> [String] {
        var names: [String] = []
        forEachEntry(of: directory) { kind, name in
            guard kind == .directory, after.map({ name > $0 }) ?? true else { return true }
            names.append(name)
            if names.count >= 2 * limit {
                names.sort()
                names.removeLast(names.count - limit)
            }
            return true
        }
        names.sort()
        if names.count > limit { names.removeLast(names.count - limit) }
        return names
    }

    /// The number of files the import visits, counted as directories are read (no list of
    /// paths is made or kept; at most one open directory per level): the count runs alongside
    /// the import, so it must cost little next to it. `found` gets each file as it goes;
    /// `stop` ends the count early.
    fileprivate static func count(_ directory: String, depth: Int = 0, stop: () -> Bool, found: () -> Void) {
        guard depth < 64, !stop() else { return }
        forEachEntry(of: directory) { kind, name in
            switch kind {
            case .directory: count(path(directory, name), depth: depth + 1, stop: stop, found: found)
            case .metricsFile: found()
            }
            return !stop()
        }
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
                counted.add(1, ordering: .relaxed)
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

/// Writes batches on its own queue while the next ones are read; at most two batches
/// wait, so memory stays bounded when the disk is slower than parsing.
///
/// A batch written is freed by the walk (at its next `submit`, or `finish`), not by the
/// writer: its memory comes from the readers' malloc arenas, and freeing it on the writer
/// made the writer wait on those arenas' locks ~200 times a second.
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
    /// Batches submitted and not written yet, oldest first; batches written.
    private let batches = Mutex<(waiting: [[ResultDocument]], written: [[ResultDocument]])>(([], []))

    init(store: any DataStore) { self.store = store }

    var outcome: Outcome { state.withLock { $0 } }

    func submit(_ documents: [ResultDocument]) {
        slots.wait()
        let written = batches.withLock { batches in
            batches.waiting.append(documents)
            defer { batches.written.removeAll() }
            return batches.written
        }
        _ = consume written  // freed here, on the walk's thread
        queue.async { [self] in
            defer { slots.signal() }
            // Every reference this thread held to the batch is gone by the time it returns,
            // so the `written` list holds the last one when the walk takes it.
            writeNextBatch()
        }
    }

    private func writeNextBatch() {
        let documents = batches.withLock { $0.waiting.removeFirst() }
        defer { batches.withLock { $0.written.append(documents) } }
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

    /// Waits for every submitted batch.
    func finish() -> Outcome {
        queue.sync {}
        batches.withLock { $0.written.removeAll() }
        return outcome
    }
}
