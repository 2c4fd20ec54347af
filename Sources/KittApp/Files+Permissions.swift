#if canImport(Glibc)
import Glibc
#endif
import KittBase

/// Owner-only files for kitt's data (SPEC §7.2): the data dir holds the database, the CA key
/// and the generated token, so nobody else on the machine may even list it.
extension Files {
    /// Creates `path` 0700, or tightens an existing directory to 0700. Returns a warning line
    /// when it had to tighten one (the operator should know it was open), nil otherwise.
    public static func makePrivateDirectory(_ path: String) throws -> String? {
        try makeDirectory(path, mode: 0o700)
        var info = stat()
        guard stat(path, &info) == 0 else {
            throw FileError("cannot inspect directory \(path): \(String(cString: strerror(errno)))")
        }
        let permissions = info.st_mode & 0o777
        guard permissions & 0o077 != 0 else { return nil }
        // Never lock others out of a directory that is not kitt's alone (`--data-dir /tmp`, or
        // `/` run as root): leave it and say why. kitt's own files in it are 0600 regardless.
        if info.st_mode & S_ISVTX != 0 || info.st_uid != geteuid() || realPath(path) == "/" {
            return "WARNING: data dir \(path) (\(octal(permissions))) is shared with other users and was left as it is; "
                + "give kitt a directory of its own"
        }
        guard chmod(path, 0o700) == 0 else {
            throw FileError(
                "data dir \(path) is \(octal(permissions)) and cannot be tightened to 0700: \(String(cString: strerror(errno)))")
        }
        return "WARNING: data dir \(path) was \(octal(permissions)) (open to other users); tightened to 0700"
    }

    static func realPath(_ path: String) -> String? {
        guard let resolved = realpath(path, nil) else { return nil }
        defer { free(resolved) }
        return String(cString: resolved)
    }

    /// Permission bits as `0755`.
    static func octal(_ mode: mode_t) -> String {
        let digits = String(mode & 0o777, radix: 8)
        return String(repeating: "0", count: max(0, 4 - digits.count)) + digits
    }
}
