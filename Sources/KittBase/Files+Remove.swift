#if canImport(Glibc)
import Glibc
#endif

extension Files {
    /// Removes `path`: a file, a symlink (the link, never what it points to) or a folder tree.
    /// Missing: nothing to do.
    public static func removeTree(_ path: String) throws(SystemError) {
        let trimmed = path.count > 1 && path.hasSuffix("/") ? String(path.dropLast()) : path
        let slash = trimmed.lastIndex(of: "/")
        let parentPath = slash.map { $0 == trimmed.startIndex ? "/" : String(trimmed[..<$0]) } ?? "."
        let name = slash.map { String(trimmed[trimmed.index(after: $0)...]) } ?? trimmed
        guard !name.isEmpty, name != ".", name != ".." else { throw SystemError("remove(\(path))", errno: EINVAL) }
        let parent = open(parentPath, O_RDONLY | O_DIRECTORY | O_CLOEXEC)
        guard parent >= 0 else {
            if errno == ENOENT { return }
            throw SystemError("open(\(parentPath))")
        }
        defer { close(parent) }
        try removeEntry(parent: parent, name: name)
    }

    /// Removes the entry `name` of the open folder `parent`. Every folder is opened with
    /// O_NOFOLLOW from `parent` down: a symlink met anywhere is unlinked, never followed.
    public static func removeEntry(parent: Int32, name: String) throws(SystemError) {
        try removeEntry(parent: parent, name: name, depth: 0)
    }

    private static func removeEntry(parent: Int32, name: String, depth: Int) throws(SystemError) {
        guard depth < 64 else { throw SystemError("remove: tree too deep", errno: ELOOP) }
        let fd = openat(parent, name, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC)
        if fd < 0 {
            // Not a folder (a file, or a symlink: O_NOFOLLOW refuses it): unlink the entry itself.
            guard errno == ENOTDIR || errno == ELOOP else {
                if errno == ENOENT { return }
                throw SystemError("openat(\(name))")
            }
            guard unlinkat(parent, name, 0) == 0 || errno == ENOENT else { throw SystemError("unlink(\(name))") }
            return
        }
        guard let directory = fdopendir(fd) else {
            close(fd)
            throw SystemError("fdopendir(\(name))")
        }
        var children: [String] = []
        while let entry = readdir(directory) {
            let child = withUnsafeBytes(of: entry.pointee.d_name) { raw in
                String(decoding: raw.prefix { $0 != 0 }, as: UTF8.self)
            }
            if child != "." && child != ".." { children.append(child) }
        }
        defer { closedir(directory) }  // also closes fd
        for child in children {
            try removeEntry(parent: dirfd(directory), name: child, depth: depth + 1)
        }
        guard unlinkat(parent, name, AT_REMOVEDIR) == 0 || errno == ENOENT else { throw SystemError("rmdir(\(name))") }
    }
}
