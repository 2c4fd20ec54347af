#if canImport(Glibc)
import Glibc
#endif
import KittBase

/// The process's own resource use, from /proc (Linux): what `process_*` metrics report.
enum ProcessStats {
    /// Resident set size in bytes (/proc/self/statm, second field, in pages).
    static func residentBytes() -> Int? {
        guard let statm = Files.readPrefix("/proc/self/statm", maxBytes: 512), !statm.isEmpty else { return nil }
        let text = String(decoding: statm, as: UTF8.self)
        let fields = text.split(separator: " ")
        guard fields.count > 1, let pages = Int(fields[1]) else { return nil }
        let (bytes, overflow) = pages.multipliedReportingOverflow(by: sysconf(Int32(_SC_PAGESIZE)))
        return overflow ? nil : bytes
    }

    /// Open file descriptors (entries of /proc/self/fd, minus the one listing it).
    static func openDescriptors() -> Int? {
        guard let directory = opendir("/proc/self/fd") else { return nil }
        defer { closedir(directory) }
        var count = 0
        while let entry = readdir(directory) {
            let name = withUnsafeBytes(of: entry.pointee.d_name) { String(decoding: $0.prefix { $0 != 0 }, as: UTF8.self) }
            if name != "." && name != ".." { count += 1 }
        }
        return max(0, count - 1)
    }

    /// Soft limit on descriptors (RLIMIT_NOFILE).
    static func maxDescriptors() -> Int? {
        var limit = rlimit()
        guard getrlimit(RLIMIT_NOFILE_VALUE, &limit) == 0 else { return nil }
        return Int(exactly: limit.rlim_cur)  // RLIM_INFINITY (all ones) does not fit: nil
    }

    private static let RLIMIT_NOFILE_VALUE = __rlimit_resource_t(RLIMIT_NOFILE.rawValue)
}
