#if canImport(Glibc)
import Glibc
#endif
import KittBase

/// `--auth-token-file FILE` / `KITT_AUTH_TOKEN_FILE`: the admin token read from a file, so it
/// is in neither `ps` nor the process environment (systemd `LoadCredential=`, Docker secrets).
enum AuthTokenFile {
    /// The token (surrounding whitespace trimmed) and a warning when others may read the file.
    /// Throws a message naming the file when it cannot be read or holds no usable token.
    static func read(_ path: String) throws -> (token: String, warning: String?) {
        guard let bytes = Files.read(path) else {
            throw FileError("cannot read auth token file \(path): \(String(cString: strerror(errno)))")
        }
        let isSpace: (UInt8) -> Bool = { $0 == 0x20 || $0 == 0x09 || $0 == 0x0A || $0 == 0x0D }
        let trimmed = bytes.drop(while: isSpace).reversed().drop(while: isSpace).reversed()
        let token = String(decoding: trimmed, as: UTF8.self)
        guard !token.isEmpty else { throw FileError("auth token file \(path) is empty") }
        guard token.unicodeScalars.allSatisfy({ $0.value > 0x20 && $0.value < 0x7F }) else {
            throw FileError("auth token file \(path) must hold one token (printable ASCII, no spaces or lines)")
        }
        var info = stat()
        var warning: String?
        if stat(path, &info) == 0, info.st_mode & 0o077 != 0 {
            warning = "WARNING: auth token file \(path) is \(Files.octal(info.st_mode)) (readable by other users); chmod 600 it"
        }
        return (token, warning)
    }
}
