import KittBase
import KittHTTP
import KittJSON
import KittNet
import Synchronization

#if canImport(Glibc)
    import Glibc
#endif

/// The local model directory: Devon's `manifest.json`, a scan for model files, and deleting
/// one model's files. Nothing outside the directory is ever read through a repo id, and
/// nothing outside it is ever deleted: repo ids are validated, targets are resolved with
/// realpath() (all but a symlink model itself, which is removed as a link) and must lie
/// strictly inside the directory, and the removal itself walks
/// from the directory with `openat(O_NOFOLLOW)`, so a symlink swapped in meanwhile is
/// refused rather than followed.
public struct ModelDirectory: Sendable {
    public let root: String

    public init(root: String) {
        self.root = root
    }

    /// One manifest entry, keyed `source::model_id`.
    public struct ManifestEntry: Sendable, Equatable {
        public let key: String
        public let modelID: String
        public let source: String
        public let path: String
        public let sizeBytes: Int
        public let formats: [String]

        public var json: JSON {
            .object(
                JSONObject([
                    ("model_id", .string(modelID)), ("path", .string(path)), ("source", .string(source)),
                    ("size_bytes", .int(sizeBytes)), ("formats", .array(formats.map(JSON.string))),
                ]))
        }
    }

    /// A model found by scanning: a folder (or a file directly in the root) holding model files.
    public struct LocalModel: Sendable, Equatable {
        public let name: String
        public let path: String
        public let formats: [String]
        public let sizeBytes: Int

        public var json: JSON {
            .object(
                JSONObject([
                    ("name", .string(name)), ("path", .string(path)), ("formats", .array(formats.map(JSON.string))),
                    ("size_gb", .double(ModelDirectory.gigabytes(sizeBytes))),
                ]))
        }
    }

    public var manifestPath: String { root + "/manifest.json" }

    // MARK: - Manifest

    /// The manifest as parsed JSON; nil when absent, unreadable or not a JSON object.
    func manifestObject() -> JSONObject? {
        guard let bytes = Files.read(manifestPath, limit: 64 << 20),
            case .object(let object)? = try? JSON(parsing: bytes)
        else { return nil }
        return object
    }

    /// Manifest entries sorted by model id (case-insensitively); nil without a manifest.
    public func manifestEntries() -> [ManifestEntry]? {
        guard let object = manifestObject() else { return nil }
        return ModelDirectory.entries(of: object)
    }

    static func entries(of object: JSONObject) -> [ManifestEntry] {
        var entries: [ManifestEntry] = []
        for (key, value) in object {
            let entry = value.objectValue ?? JSONObject()
            let parts = key.split(separator: "::", maxSplits: 1, omittingEmptySubsequences: false)
            let source = parts.count == 2 ? String(parts[0]) : (entry["source"]?.stringValue ?? "unknown")
            let modelID = parts.count == 2 ? String(parts[1]) : key
            var formats: [String] = []
            if let list = entry["metadata"]?["format"]?.arrayValue {
                formats = list.compactMap(\.stringValue)
            } else if let single = entry["metadata"]?["format"]?.stringValue {
                formats = [single]
            }
            entries.append(
                ManifestEntry(
                    key: key, modelID: modelID, source: source, path: entry["path"]?.stringValue ?? "",
                    sizeBytes: entry["size_bytes"]?.intValue ?? 0, formats: formats))
        }
        return entries.sorted { ($0.modelID.lowercased(), $0.modelID) < ($1.modelID.lowercased(), $1.modelID) }
    }

    /// `/models/local` without Devon: the manifest when there is one, else a scan.
    public func localModels() -> [LocalModel] {
        if let entries = manifestEntries() {
            return entries.map {
                LocalModel(name: $0.modelID, path: $0.path, formats: $0.formats, sizeBytes: $0.sizeBytes)
            }
        }
        return scan()
    }

    // MARK: - Scan

    static let formatsByExtension: [String: String] = [
        "gguf": "gguf", "safetensors": "safetensors", "bin": "pytorch", "pt": "pytorch", "pth": "pytorch",
    ]

    /// Model files (`.gguf`, `.safetensors`, `.bin/.pt/.pth`) grouped by their folder; a file
    /// directly in the root is a model of its own. Symlinks are not followed. Sorted by name.
    public func scan() -> [LocalModel] {
        var groups: [String: (formats: Set<String>, size: Int)] = [:]
        walk(relative: "", depth: 0) { relativeFolder, fileName, size in
            guard let dot = fileName.lastIndex(of: "."),
                let format = ModelDirectory.formatsByExtension[fileName[fileName.index(after: dot)...].lowercased()]
            else { return }
            let key = relativeFolder.isEmpty ? fileName : relativeFolder
            groups[key, default: ([], 0)].formats.insert(format)
            groups[key, default: ([], 0)].size += size
        }
        return groups.map { name, group in
            LocalModel(name: name, path: root + "/" + name, formats: group.formats.sorted(), sizeBytes: group.size)
        }.sorted { ($0.name.lowercased(), $0.name) < ($1.name.lowercased(), $1.name) }
    }

    private func walk(relative: String, depth: Int, _ visit: (String, String, Int) -> Void) {
        guard depth < 16 else { return }
        let folder = relative.isEmpty ? root : root + "/" + relative
        guard let directory = opendir(folder) else { return }
        defer { closedir(directory) }
        while let entry = readdir(directory) {
            let name = withUnsafeBytes(of: entry.pointee.d_name) { raw in
                String(decoding: raw.prefix { $0 != 0 }, as: UTF8.self)
            }
            if name == "." || name == ".." { continue }
            var info = stat()
            guard lstat(folder + "/" + name, &info) == 0 else { continue }
            let kind = info.st_mode & S_IFMT
            let child = relative.isEmpty ? name : relative + "/" + name
            if kind == S_IFDIR {
                walk(relative: child, depth: depth + 1, visit)
            } else if kind == S_IFREG {
                visit(relative, name, Int(info.st_size))
            }
        }
    }

    // MARK: - Delete

    /// Checks a repo id before it gets near the file system: relative, `/`-separated, no empty,
    /// `.` or `..` segment, no NUL, control character, backslash or `%` (the router has already
    /// percent-decoded it once; a `%` left means double encoding).
    public static func validate(repoID: String) throws(HTTPError) {
        guard !repoID.isEmpty else { throw HTTPError.badRequest("repo_id must not be empty") }
        guard repoID.utf8.count <= 512 else { throw HTTPError.badRequest("repo_id is too long") }
        guard !repoID.hasPrefix("/") else { throw HTTPError.badRequest("repo_id must not be an absolute path") }
        guard
            !repoID.utf8.contains(where: {
                $0 < 0x20 || $0 == 0x7F || $0 == UInt8(ascii: "\\") || $0 == UInt8(ascii: "%")
            })
        else { throw HTTPError.badRequest("repo_id contains a forbidden character") }
        for segment in repoID.split(separator: "/", omittingEmptySubsequences: false) {
            guard !segment.isEmpty else { throw HTTPError.badRequest("repo_id has an empty path segment") }
            guard segment != "." && segment != ".." else {
                throw HTTPError.badRequest("repo_id must not contain '.' or '..' segments")
            }
        }
    }

    /// Removes a model's files and its manifest entries. False when there was nothing to
    /// remove (404). Throws 400 for a bad repo id or a target outside the directory, and 500
    /// when the file system refuses.
    public func delete(repoID: String) throws(HTTPError) -> Bool {
        try ModelDirectory.validate(repoID: repoID)
        return try ModelDirectory.lock.withLock { _ throws(HTTPError) in try deleteLocked(repoID: repoID) }
    }

    /// Serializes deletes and manifest rewrites within the process.
    private static let lock = Mutex<Int>(0)

    private func deleteLocked(repoID: String) throws(HTTPError) -> Bool {
        guard let rootReal = ModelDirectory.realPath(root) else { return false }
        let manifest = manifestObject()
        let matching = manifest.map { ModelDirectory.entries(of: $0).filter { $0.modelID == repoID } } ?? []

        // Resolve every target first; refuse before touching anything.
        var candidates = [root + "/" + repoID]
        for entry in matching where !entry.path.isEmpty {
            candidates.append(entry.path.hasPrefix("/") ? entry.path : root + "/" + entry.path)
        }
        var targets: [String] = []  // relative to rootReal, symlink-free
        for candidate in candidates {
            var info = stat()
            guard lstat(candidate, &info) == 0 else { continue }
            guard let real = ModelDirectory.entryPath(candidate), real.hasPrefix(rootReal + "/") else {
                throw HTTPError.badRequest("model path is outside the model directory")
            }
            let relative = String(real.dropFirst(rootReal.count + 1))
            guard relative != "manifest.json" else { throw HTTPError.badRequest("refusing to delete the manifest") }
            if !targets.contains(relative) { targets.append(relative) }
        }
        if targets.isEmpty && matching.isEmpty { return false }

        for relative in targets {
            do {
                try ModelDirectory.removeTree(root: rootReal, relative: relative)
            } catch {
                throw HTTPError(.internalServerError, "could not delete the model: \(error.description)")
            }
            ModelDirectory.removeEmptyParents(root: rootReal, relative: relative)
        }
        if var manifest, !matching.isEmpty {
            for entry in matching { manifest.removeValue(forKey: entry.key) }
            do {
                try ModelDirectory.writeAtomically(JSON.object(manifest).serialized(), to: manifestPath)
            } catch {
                throw HTTPError(.internalServerError, "could not rewrite manifest.json: \(error.description)")
            }
        }
        return true
    }

    /// Removes `relative` (a file, symlink or folder tree) under `root`, opening every
    /// folder with O_NOFOLLOW from the root down: a symlink is unlinked, never followed.
    static func removeTree(root: String, relative: String) throws(SystemError) {
        let rootFD = open(root, O_RDONLY | O_DIRECTORY | O_CLOEXEC)
        guard rootFD >= 0 else { throw SystemError("open(model dir)") }
        defer { close(rootFD) }
        var segments = relative.split(separator: "/").map(String.init)
        guard let last = segments.popLast() else { return }
        var parent = rootFD
        var opened: [Int32] = []
        defer { for fd in opened { close(fd) } }
        for segment in segments {
            let fd = openat(parent, segment, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC)
            guard fd >= 0 else { throw SystemError("openat(\(segment))") }
            opened.append(fd)
            parent = fd
        }
        try Files.removeEntry(parent: parent, name: last)
    }

    /// Drops folders left empty above a removed model (`org/` after `org/model`), never the root.
    private static func removeEmptyParents(root: String, relative: String) {
        var segments = relative.split(separator: "/").map(String.init)
        segments.removeLast()
        while !segments.isEmpty {
            var info = stat()
            let path = root + "/" + segments.joined(separator: "/")
            guard lstat(path, &info) == 0, info.st_mode & S_IFMT == S_IFDIR, rmdir(path) == 0 else { return }
            segments.removeLast()
        }
    }

    // MARK: - Files

    static func realPath(_ path: String) -> String? {
        guard let resolved = realpath(path, nil) else { return nil }
        defer { free(resolved) }
        return String(cString: resolved)
    }

    /// The canonical path of the entry `path` names *without following its last component*:
    /// a model that is a symlink resolves to the link, so deleting it unlinks the link and
    /// never touches what it points to (inside the model dir or out of it).
    static func entryPath(_ path: String) -> String? {
        var trimmed = Substring(path)
        while trimmed.count > 1 && trimmed.hasSuffix("/") { trimmed.removeLast() }
        guard let slash = trimmed.lastIndex(of: "/") else { return realPath(String(trimmed)) }
        let name = trimmed[trimmed.index(after: slash)...]
        if name.isEmpty || name == "." || name == ".." { return realPath(String(trimmed)) }
        let parent = slash == trimmed.startIndex ? "/" : String(trimmed[..<slash])
        guard let parentReal = realPath(parent) else { return nil }
        return (parentReal == "/" ? "" : parentReal) + "/" + name
    }

    /// Replaces the manifest atomically, keeping the mode it has (0644 when it is new).
    static func writeAtomically(_ bytes: [UInt8], to path: String) throws(SystemError) {
        var mode: mode_t = 0o644
        var info = stat()
        if stat(path, &info) == 0 { mode = info.st_mode & 0o777 }
        try Files.writeAtomically(bytes, to: path, mode: mode)
    }

    /// Bytes → GiB rounded to two decimals (what KITT shows as size_gb).
    static func gigabytes(_ bytes: Int) -> Double {
        (Double(bytes) / 1_073_741_824 * 100).rounded() / 100
    }
}
