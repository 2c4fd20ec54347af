#if canImport(Glibc)
import Glibc
#endif

extension Files {
    /// Replaces `path` so that a crash leaves either the old file or the new one, never a
    /// mix: write a fresh temp file beside it (created with `mode`, then fchmod so the umask
    /// cannot change it), fsync it, rename it over `path`, fsync the directory so the rename
    /// itself is durable. Every result is checked; on any failure the temp file is removed.
    public static func writeAtomically(_ bytes: [UInt8], to path: String, mode: mode_t = 0o644) throws(SystemError) {
        // Array.withUnsafeBytes only rethrows `any Error`; carry the typed error out by hand.
        var failure: SystemError?
        bytes.withUnsafeBytes { raw in
            do throws(SystemError) { try writeAtomically(raw, to: path, mode: mode) } catch { failure = error }
        }
        if let failure { throw failure }
    }

    /// The same, from memory the caller owns (a key's PEM is never copied into an array).
    public static func writeAtomically(
        _ bytes: UnsafeRawBufferPointer, to path: String, mode: mode_t = 0o644
    ) throws(SystemError) {
        let temporary = path + ".tmp-\(getpid())-\(SecureRandom.hex(bytes: 4))"
        let fd = open(temporary, O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC, mode)
        guard fd >= 0 else { throw SystemError("open(\(temporary))") }
        var renamed = false
        defer { if !renamed { _ = unlink(temporary) } }
        do {
            defer { close(fd) }
            guard fchmod(fd, mode) == 0 else { throw SystemError("fchmod(\(temporary))") }
            var offset = 0
            while offset < bytes.count {
                let n = Glibc.write(fd, bytes.baseAddress! + offset, bytes.count - offset)
                if n < 0 {
                    if errno == EINTR { continue }
                    throw SystemError("write(\(temporary))")
                }
                offset += n
            }
            guard fsync(fd) == 0 else { throw SystemError("fsync(\(temporary))") }
        }
        guard rename(temporary, path) == 0 else { throw SystemError("rename(\(temporary), \(path))") }
        renamed = true
        try syncDirectory(containing: path)
    }

    /// fsync of the folder holding `path`, which makes a rename or a new name in it durable.
    public static func syncDirectory(containing path: String) throws(SystemError) {
        let slash = path.lastIndex(of: "/")
        try syncFile(slash.map { $0 == path.startIndex ? "/" : String(path[..<$0]) } ?? ".")
    }

    /// fsync of a file or folder already written by someone else (SQLite, a rename). EINVAL
    /// means the file system cannot sync that kind of file (nothing more can be done there).
    /// Not for a file this process has open with locks on it (SQLite's database): the close
    /// drops them; sync it through a descriptor kept open instead (`syncFile(descriptor:)`).
    public static func syncFile(_ path: String) throws(SystemError) {
        let fd = open(path, O_RDONLY | O_CLOEXEC)
        guard fd >= 0 else { throw SystemError("open(\(path))") }
        defer { close(fd) }
        try syncFile(descriptor: fd, path: path)
    }

    /// `syncFile` through a descriptor the caller keeps open (`path` names it in errors).
    public static func syncFile(descriptor fd: Int32, path: String) throws(SystemError) {
        guard fsync(fd) == 0 || errno == EINVAL else { throw SystemError("fsync(\(path))") }
    }
}
