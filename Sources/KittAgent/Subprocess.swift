#if canImport(Glibc)
    import Glibc
#endif

/// Runs a program found on PATH (posix_spawnp, no shell) and collects its stdout, bounded in
/// time and size: past the deadline the child is killed and the result is nil.
enum Subprocess {
    static func run(_ arguments: [String], timeout: Double, maxBytes: Int = 1 << 20) -> (status: Int32, output: String)?
    {
        guard !arguments.isEmpty else { return nil }
        var pipeFDs: [Int32] = [-1, -1]
        guard pipe(&pipeFDs) == 0 else { return nil }
        let readEnd = pipeFDs[0]
        let writeEnd = pipeFDs[1]
        // Close-on-exec, so no other child inherits them (dup2 onto stdout clears the flag).
        _ = fcntl(readEnd, F_SETFD, FD_CLOEXEC)
        _ = fcntl(writeEnd, F_SETFD, FD_CLOEXEC)

        var actions = posix_spawn_file_actions_t()
        posix_spawn_file_actions_init(&actions)
        defer { posix_spawn_file_actions_destroy(&actions) }
        posix_spawn_file_actions_adddup2(&actions, writeEnd, 1)
        posix_spawn_file_actions_addopen(&actions, 0, "/dev/null", O_RDONLY, 0)
        posix_spawn_file_actions_addopen(&actions, 2, "/dev/null", O_WRONLY, 0)

        var cArguments: [UnsafeMutablePointer<CChar>?] = arguments.map { strdup($0) } + [nil]
        defer { for pointer in cArguments { free(pointer) } }
        var pid: pid_t = 0
        let spawned = posix_spawnp(&pid, arguments[0], &actions, nil, &cArguments, environ)
        close(writeEnd)
        guard spawned == 0 else {
            close(readEnd)
            return nil
        }
        defer { close(readEnd) }

        var output: [UInt8] = []
        var buffer = [UInt8](repeating: 0, count: 4096)
        let deadline = Clock.now() + timeout
        var timedOut = false
        while true {
            let remaining = deadline - Clock.now()
            if remaining <= 0 {
                timedOut = true
                break
            }
            var entry = pollfd(fd: readEnd, events: Int16(POLLIN), revents: 0)
            let ready = poll(&entry, 1, Int32(min(remaining, 1) * 1000) + 1)
            if ready < 0 && errno != EINTR { break }
            if ready <= 0 { continue }
            let n = buffer.withUnsafeMutableBytes { read(readEnd, $0.baseAddress, $0.count) }
            if n < 0 && errno == EINTR { continue }
            if n <= 0 { break }
            if output.count < maxBytes { output.append(contentsOf: buffer[0..<n]) }
        }
        if timedOut { kill(pid, SIGKILL) }
        var status: Int32 = 0
        while waitpid(pid, &status, 0) < 0 && errno == EINTR {}
        if timedOut { return nil }
        let exitCode = (status & 0x7f) == 0 ? (status >> 8) & 0xff : -1
        return (exitCode, String(decoding: output, as: UTF8.self))
    }
}

/// The monotonic clock in seconds.
enum Clock {
    static func now() -> Double {
        var spec = timespec()
        clock_gettime(CLOCK_MONOTONIC, &spec)
        return Double(spec.tv_sec) + Double(spec.tv_nsec) / 1e9
    }

    /// Sleeps without being cut short by signals.
    static func sleep(_ seconds: Double) {
        guard seconds > 0 else { return }
        var request = timespec(tv_sec: Int(seconds), tv_nsec: Int((seconds - Double(Int(seconds))) * 1e9))
        var remaining = timespec()
        while nanosleep(&request, &remaining) != 0 && errno == EINTR { request = remaining }
    }
}
