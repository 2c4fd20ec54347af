/// Where an agent may keep (and so clean out) models (SPEC §7.2): strictly below the user's
/// home or below /var, /data, /mnt, /srv or /opt — never `/`, a system directory, or a root
/// itself, since `cleanup_storage` without a model path empties the storage directory.
public enum StoragePolicy {
    public static let systemRoots = ["/var", "/data", "/mnt", "/srv", "/opt"]

    /// Why `path` may not be the storage directory, or nil when it may. `~` is the home;
    /// `.`/`..` are resolved lexically first, so `/opt/../etc` is `/etc`.
    public static func problem(with path: String, home: String?) -> String? {
        var expanded = path
        if let home, path == "~" || path.hasPrefix("~/") { expanded = home + path.dropFirst(1) }
        guard expanded.hasPrefix("/") else { return "'\(path)' must be an absolute path (or start with ~/)" }
        let normalized = normalize(expanded)
        guard normalized != "/" else { return "'\(path)' is the root directory" }
        var roots = systemRoots
        if let home, normalize(home) != "/" { roots.append(normalize(home)) }
        guard roots.contains(where: { normalized.hasPrefix($0 + "/") }) else {
            return "'\(path)' must be inside the home directory or /var, /data, /mnt, /srv, /opt (not one of them itself)"
        }
        return nil
    }

    /// `/a/./b/../c//` → `/a/c` (no symlinks followed: the directory may not exist yet).
    static func normalize(_ path: String) -> String {
        var parts: [Substring] = []
        for part in path.split(separator: "/", omittingEmptySubsequences: true) {
            switch part {
            case ".": continue
            case "..": if !parts.isEmpty { parts.removeLast() }
            default: parts.append(part)
            }
        }
        return "/" + parts.joined(separator: "/")
    }
}
