#if canImport(Glibc)
    import Glibc
#endif

/// `cleanup_storage`: removes one model copy under the storage directory, or everything in it.
/// Nothing outside the storage directory is ever removed: the target is resolved with
/// realpath (symlinks and `..` included) and must lie strictly inside the resolved root, and
/// the removal itself never follows symlinks.
public enum StorageCleaner {
    public struct Freed: Sendable, Equatable {
        public var path: String
        public var bytes: Int64
        public var files: Int
    }

    /// Resolves `modelPath` (relative to `root`, or absolute) to a path strictly inside `root`.
    public static func resolve(_ modelPath: String, root: String) throws(CleanupError) -> String {
        guard let realRoot = realPath(root) else { throw CleanupError("storage directory \(root) does not exist") }
        guard !modelPath.isEmpty, !modelPath.utf8.contains(0) else { throw CleanupError("empty model path") }
        let joined = modelPath.hasPrefix("/") ? modelPath : realRoot + "/" + modelPath
        guard let target = realPath(joined) else { throw CleanupError("\(modelPath) not found under \(realRoot)") }
        guard target != realRoot, target.hasPrefix(realRoot == "/" ? "/" : realRoot + "/") else {
            throw CleanupError("refusing to remove \(modelPath): it resolves to \(target), outside \(realRoot)")
        }
        return target
    }

    /// Removes the model at `modelPath` (nil: every entry of `root`, keeping `root`; an empty
    /// path is a mistake, not "everything").
    public static func clean(modelPath: String?, root: String) throws(CleanupError) -> Freed {
        if let modelPath {
            let target = try resolve(modelPath, root: root)
            var freed = Freed(path: target, bytes: 0, files: 0)
            try remove(target, freed: &freed)
            return freed
        }
        guard let realRoot = realPath(root) else { throw CleanupError("storage directory \(root) does not exist") }
        var freed = Freed(path: realRoot, bytes: 0, files: 0)
        for entry in try entries(of: realRoot) { try remove(realRoot + "/" + entry, freed: &freed) }
        return freed
    }

    static func realPath(_ path: String) -> String? {
        guard let resolved = realpath(path, nil) else { return nil }
        defer { free(resolved) }
        return String(cString: resolved)
    }

    /// Removes a file, symlink (the link only) or directory tree, counting what it frees.
    static func remove(_ path: String, freed: inout Freed) throws(CleanupError) {
        var info = stat()
        guard lstat(path, &info) == 0 else {
            if errno == ENOENT { return }
            throw CleanupError("cannot stat \(path): \(String(cString: strerror(errno)))")
        }
        if (info.st_mode & S_IFMT) == S_IFDIR {
            for entry in try entries(of: path) { try remove(path + "/" + entry, freed: &freed) }
            guard rmdir(path) == 0 else {
                throw CleanupError("cannot remove \(path): \(String(cString: strerror(errno)))")
            }
            return
        }
        guard unlink(path) == 0 else {
            throw CleanupError("cannot remove \(path): \(String(cString: strerror(errno)))")
        }
        if (info.st_mode & S_IFMT) == S_IFREG {
            freed.bytes += Int64(info.st_size)
            freed.files += 1
        }
    }

    static func entries(of directory: String) throws(CleanupError) -> [String] {
        guard let handle = opendir(directory) else {
            throw CleanupError("cannot open \(directory): \(String(cString: strerror(errno)))")
        }
        defer { closedir(handle) }
        var names: [String] = []
        while let entry = readdir(handle) {
            let name = withUnsafeBytes(of: entry.pointee.d_name) { raw in
                String(decoding: raw.prefix { $0 != 0 }, as: UTF8.self)
            }
            if name != "." && name != ".." { names.append(name) }
        }
        return names
    }

    /// Human-readable size.
    public static func describe(bytes: Int64) -> String {
        let units = ["B", "KiB", "MiB", "GiB", "TiB"]
        var value = Double(bytes)
        var unit = 0
        while value >= 1024 && unit < units.count - 1 {
            value /= 1024
            unit += 1
        }
        return unit == 0 ? "\(bytes) B" : "\(Statistics.rounded(value, places: 1)) \(units[unit])"
    }

    /// Free space of the file system holding `path`, in GB.
    public static func freeGB(_ path: String) -> Double? {
        var info = statvfs()
        guard statvfs(path, &info) == 0 else { return nil }
        return Statistics.rounded(Double(info.f_bavail) * Double(info.f_frsize) / 1_073_741_824, places: 2)
    }
}

public struct CleanupError: Error, Equatable, CustomStringConvertible {
    public let description: String
    public init(_ description: String) { self.description = description }
}
