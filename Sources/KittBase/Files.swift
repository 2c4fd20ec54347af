#if canImport(Glibc)
import Glibc
#endif

/// Small file helpers over Glibc (kitt's libraries avoid full Foundation). Every whole-file
/// read and every atomic write in kitt goes through here.
public enum Files {
    public static func exists(_ path: String) -> Bool { access(path, F_OK) == 0 }

    public static func homeDirectory(environment: [String: String]) -> String {
        if let home = environment["HOME"], !home.isEmpty { return home }
        if let entry = getpwuid(getuid()), let dir = entry.pointee.pw_dir { return String(cString: dir) }
        return "/tmp"
    }

    /// mkdir -p with a mode for the directories it creates.
    public static func makeDirectory(_ path: String, mode: mode_t = 0o700) throws {
        var current = path.hasPrefix("/") ? "" : "."
        for component in path.split(separator: "/") {
            current += "/" + component
            if mkdir(current, mode) != 0 && errno != EEXIST {
                throw FileError("cannot create directory \(current): \(String(cString: strerror(errno)))")
            }
        }
    }

    /// The whole file, or nil when it cannot be opened or read, or holds more than `limit` bytes.
    public static func read(_ path: String, limit: Int = Int.max) -> [UInt8]? {
        guard let bytes = readPrefix(path, maxBytes: limit == Int.max ? limit : limit + 1),
            bytes.count <= limit
        else { return nil }
        return bytes
    }

    /// At most the first `maxBytes` bytes; nil when the file cannot be opened or read. A file
    /// whose size is known is read straight into an array of that size (for many small files a
    /// scratch buffer per file cost more than the read); procfs files report size 0, and a file
    /// may grow while read, so it then reads on in chunks until EOF or the cap.
    public static func readPrefix(_ path: String, maxBytes: Int) -> [UInt8]? {
        let fd = open(path, O_RDONLY | O_CLOEXEC)
        guard fd >= 0 else { return nil }
        defer { close(fd) }
        var info = stat()
        let size = fstat(fd, &info) == 0 && info.st_size > 0 ? Int(info.st_size) : 0
        // One byte past the size shows whether the file grew; never more than 1 GiB up front.
        let capacity = min(maxBytes, min(size, 1 << 30) + 1)
        var failed = false
        var result = [UInt8](unsafeUninitializedCapacity: capacity) { buffer, count in
            count = 0
            while count < capacity {
                let n = Glibc.read(fd, buffer.baseAddress! + count, capacity - count)
                if n < 0 {
                    if errno == EINTR { continue }
                    failed = true
                    return
                }
                if n == 0 { return }
                count += n
            }
        }
        if failed { return nil }
        if result.count < capacity { return result }  // EOF before the buffer filled
        var chunk = [UInt8](repeating: 0, count: 64 * 1024)
        while result.count < maxBytes {
            let wanted = min(chunk.count, maxBytes - result.count)
            let n = chunk.withUnsafeMutableBytes { Glibc.read(fd, $0.baseAddress, wanted) }
            if n < 0 {
                if errno == EINTR { continue }
                return nil
            }
            if n == 0 { break }
            result.append(contentsOf: chunk[0..<n])
        }
        return result
    }

    public static func readText(_ path: String, limit: Int = Int.max) -> String? {
        read(path, limit: limit).map { String(decoding: $0, as: UTF8.self) }
    }

    public static func hostName() -> String {
        var buffer = [CChar](repeating: 0, count: 256)
        guard gethostname(&buffer, buffer.count - 1) == 0 else { return "localhost" }
        return buffer.withUnsafeBufferPointer { String(cString: $0.baseAddress!) }
    }

    /// The running executable's path (/proc/self/exe).
    public static func executablePath() -> String? {
        var buffer = [CChar](repeating: 0, count: 4096)
        let n = readlink("/proc/self/exe", &buffer, buffer.count - 1)
        guard n > 0 else { return nil }
        return buffer.withUnsafeBufferPointer { String(cString: $0.baseAddress!) }
    }
}

public struct FileError: Error, CustomStringConvertible {
    public let description: String
    public init(_ description: String) { self.description = description }
}
