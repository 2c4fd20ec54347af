#if canImport(Glibc)
import Glibc
#endif
import KittBase

/// Thin wrappers over the socket calls the server uses. Every socket is non-blocking and
/// close-on-exec; nothing here ever waits.
public enum Socket {
    /// Opens a listening socket on host:port (port 0 picks a free one).
    public static func listen(host: String, port: Int, backlog: Int32 = 4096) throws -> Int32 {
        try firstSocket(host: host.isEmpty ? nil : host, port: port, passive: true) { fd, info in
            var one: Int32 = 1
            setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, socklen_t(MemoryLayout<Int32>.size))
            if info.ai_family == AF_INET6 {
                // "::" serves IPv4 too, as most servers do.
                var zero: Int32 = 0
                setsockopt(fd, Int32(IPPROTO_IPV6), IPV6_V6ONLY, &zero, socklen_t(MemoryLayout<Int32>.size))
            }
            if Glibc.bind(fd, info.ai_addr, info.ai_addrlen) != 0 { return SystemError("bind \(host):\(port)") }
            if Glibc.listen(fd, backlog) != 0 { return SystemError("listen") }
            return nil
        }
    }

    /// Resolves host:port and tries each address in turn with a new non-blocking socket:
    /// `attempt` returns nil when the socket is ready to use, else why not (the socket is
    /// then closed and the next address tried). Throws the last reason when none works.
    private static func firstSocket(
        host: String?, port: Int, passive: Bool, _ attempt: (Int32, addrinfo) -> SystemError?
    ) throws -> Int32 {
        var hints = addrinfo()
        hints.ai_family = AF_UNSPEC
        hints.ai_socktype = Int32(SOCK_STREAM.rawValue)
        hints.ai_flags = passive ? AI_PASSIVE | AI_NUMERICSERV : AI_NUMERICSERV
        var results: UnsafeMutablePointer<addrinfo>?
        let status = getaddrinfo(host, String(port), &hints, &results)
        guard status == 0, let first = results else {
            throw AddressError(host: host ?? "*", port: port, code: status == 0 ? EAI_NONAME : status, systemErrno: errno)
        }
        defer { freeaddrinfo(results) }
        var lastError = SystemError(passive ? "bind" : "connect \(host ?? ""):\(port)", errno: EADDRNOTAVAIL)
        var candidate: UnsafeMutablePointer<addrinfo>? = first
        while let info = candidate {
            candidate = info.pointee.ai_next
            let flags = Int32(SOCK_STREAM.rawValue) | Int32(SOCK_NONBLOCK.rawValue) | Int32(SOCK_CLOEXEC.rawValue)
            let fd = socket(info.pointee.ai_family, flags, 0)
            if fd < 0 {
                lastError = SystemError("socket")
                continue
            }
            guard let failure = attempt(fd, info.pointee) else { return fd }
            lastError = failure
            close(fd)
        }
        throw lastError
    }

    /// The port a socket is bound to.
    public static func localPort(_ fd: Int32) -> Int {
        var storage = sockaddr_storage()
        var length = socklen_t(MemoryLayout<sockaddr_storage>.size)
        _ = withUnsafeMutablePointer(to: &storage) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { getsockname(fd, $0, &length) }
        }
        return port(of: storage)
    }

    /// Accepts one pending connection: the new fd (non-blocking) and the peer's address,
    /// nil when none is pending.
    public static func accept(_ listener: Int32) throws -> (fd: Int32, peer: String)? {
        var storage = sockaddr_storage()
        var length = socklen_t(MemoryLayout<sockaddr_storage>.size)
        while true {
            let fd = withUnsafeMutablePointer(to: &storage) {
                $0.withMemoryRebound(to: sockaddr.self, capacity: 1) {
                    Glibc.accept(listener, $0, &length)
                }
            }
            if fd >= 0 {
                // accept4 is not visible to Swift without _GNU_SOURCE; two fcntls do the same.
                _ = fcntl(fd, F_SETFL, fcntl(fd, F_GETFL) | O_NONBLOCK)
                _ = fcntl(fd, F_SETFD, FD_CLOEXEC)
                setNoDelay(fd)
                return (fd, describe(storage))
            }
            switch errno {
            case EINTR, ECONNABORTED: continue
            case EAGAIN, EWOULDBLOCK: return nil
            default: throw SystemError("accept")
            }
        }
    }

    /// Connects a non-blocking socket to host:port, waiting up to `timeout` seconds. With
    /// `source`, the socket is bound to that local IPv4 address first (tests use 127.0.0.2 to
    /// be a second client address).
    public static func connect(host: String, port: Int, timeout: Double, source: String? = nil) throws -> Int32 {
        try firstSocket(host: host, port: port, passive: false) { fd, info in
            if let source, let failure = bindSource(fd, toIPv4: source) { return failure }
            if Glibc.connect(fd, info.ai_addr, info.ai_addrlen) != 0 {
                guard errno == EINPROGRESS else { return SystemError("connect \(host):\(port)") }
                guard waitUntil(fd, events: Int16(POLLOUT), timeout: timeout) else {
                    return SystemError("connect \(host):\(port)", errno: ETIMEDOUT)
                }
                var error: Int32 = 0
                var length = socklen_t(MemoryLayout<Int32>.size)
                getsockopt(fd, SOL_SOCKET, SO_ERROR, &error, &length)
                if error != 0 { return SystemError("connect \(host):\(port)", errno: error) }
            }
            setNoDelay(fd)
            return nil
        }
    }

    private static func bindSource(_ fd: Int32, toIPv4 address: String) -> SystemError? {
        var local = sockaddr_in()
        local.sin_family = sa_family_t(AF_INET)
        guard inet_pton(AF_INET, address, &local.sin_addr) == 1 else { return SystemError("bind \(address)", errno: EINVAL) }
        let result = withUnsafePointer(to: &local) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) {
                Glibc.bind(fd, $0, socklen_t(MemoryLayout<sockaddr_in>.size))
            }
        }
        return result == 0 ? nil : SystemError("bind \(address)")
    }

    /// poll() one fd for `events`; true when ready before the timeout. For clients only.
    public static func waitUntil(_ fd: Int32, events: Int16, timeout: Double) -> Bool {
        var entry = pollfd(fd: fd, events: events, revents: 0)
        var remaining = Int32(max(0, timeout * 1000))
        while true {
            let result = poll(&entry, 1, remaining)
            if result > 0 { return true }
            if result == 0 { return false }
            if errno != EINTR { return false }
            remaining = max(0, remaining - 1)
        }
    }

    static func setNoDelay(_ fd: Int32) {
        var one: Int32 = 1
        setsockopt(fd, Int32(IPPROTO_TCP), TCP_NODELAY, &one, socklen_t(MemoryLayout<Int32>.size))
    }

    static func port(of storage: sockaddr_storage) -> Int {
        var storage = storage
        switch Int32(storage.ss_family) {
        case AF_INET:
            return withUnsafePointer(to: &storage) {
                $0.withMemoryRebound(to: sockaddr_in.self, capacity: 1) { Int(UInt16(bigEndian: $0.pointee.sin_port)) }
            }
        case AF_INET6:
            return withUnsafePointer(to: &storage) {
                $0.withMemoryRebound(to: sockaddr_in6.self, capacity: 1) { Int(UInt16(bigEndian: $0.pointee.sin6_port)) }
            }
        default:
            return 0
        }
    }

    static func describe(_ storage: sockaddr_storage) -> String {
        var storage = storage
        var buffer = [CChar](repeating: 0, count: Int(INET6_ADDRSTRLEN) + 1)
        switch Int32(storage.ss_family) {
        case AF_INET:
            withUnsafePointer(to: &storage) {
                $0.withMemoryRebound(to: sockaddr_in.self, capacity: 1) { address in
                    var raw = address.pointee.sin_addr
                    _ = inet_ntop(AF_INET, &raw, &buffer, socklen_t(buffer.count))
                }
            }
        case AF_INET6:
            withUnsafePointer(to: &storage) {
                $0.withMemoryRebound(to: sockaddr_in6.self, capacity: 1) { address in
                    var raw = address.pointee.sin6_addr
                    _ = inet_ntop(AF_INET6, &raw, &buffer, socklen_t(buffer.count))
                }
            }
        default:
            return "unknown"
        }
        return buffer.withUnsafeBufferPointer { String(cString: $0.baseAddress!) }
    }
}
