import COpenSSL
import Glibc

/// A failed OpenSSL (or file) operation: what was attempted, and the OpenSSL error queue drained at
/// the moment of failure. Log it; never put `stack` in an HTTP response.
public struct TLSError: Error, CustomStringConvertible, Sendable {
    /// What was attempted, e.g. `"SSL_CTX_use_PrivateKey_file(/etc/kitt/key.pem)"`.
    public let operation: String
    /// Drained `ERR_get_error` strings, oldest first (or `strerror` text for a failed system call).
    public let stack: [String]

    public init(operation: String, stack: [String]) {
        self.operation = operation
        self.stack = stack
    }

    public var description: String {
        stack.isEmpty ? "\(operation) failed" : "\(operation) failed: \(stack.joined(separator: "; "))"
    }

    /// Drains this thread's OpenSSL error queue into a new error.
    static func drain(_ operation: String) -> TLSError {
        TLSError(operation: operation, stack: OpenSSLErrorQueue.drain())
    }

    /// A failed system call, described by the current `errno`.
    static func posix(_ operation: String, errno code: Int32 = errno) -> TLSError {
        TLSError(operation: operation, stack: [String(cString: strerror(code))])
    }
}

/// The OpenSSL error queue is thread-local; every checked call starts with `ERR_clear_error()` so
/// stale entries from an earlier call on the same thread cannot be blamed on this one.
enum OpenSSLErrorQueue {
    static func drain() -> [String] {
        var entries: [String] = []
        while true {
            var data: UnsafePointer<CChar>? = nil
            var flags: Int32 = 0
            let code = ERR_get_error_all(nil, nil, nil, &data, &flags)
            if code == 0 { break }
            var text = withUnsafeTemporaryAllocation(of: CChar.self, capacity: 256) { buffer in
                ERR_error_string_n(code, buffer.baseAddress, buffer.count)
                return String(cString: buffer.baseAddress!)
            }
            if flags & ERR_TXT_STRING != 0, let data, data.pointee != 0 {
                text += " (\(String(cString: data)))"
            }
            entries.append(text)
        }
        return entries
    }
}

/// Runs one OpenSSL call that returns 1 (or any positive value) on success, after clearing the
/// error queue; on failure throws the drained queue.
@inline(__always)
func openssl(_ operation: @autoclosure () -> String, _ call: () -> Int32) throws(TLSError) {
    ERR_clear_error()
    guard call() > 0 else { throw TLSError.drain(operation()) }
}

/// Runs one OpenSSL call that returns a pointer (nil on failure), after clearing the error queue.
@inline(__always)
func openssl<Pointer>(_ operation: @autoclosure () -> String, _ call: () -> Pointer?) throws(TLSError) -> Pointer {
    ERR_clear_error()
    guard let result = call() else { throw TLSError.drain(operation()) }
    return result
}
