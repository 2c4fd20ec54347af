#if canImport(Glibc)
import Glibc
#endif

/// Which threads are event-loop threads, so the store can check (in debug builds) that it is
/// never called from one: a loop thread waiting on SQLite stalls every connection on it.
/// A thread-specific flag that `EventLoop.run` sets for as long as its thread runs the loop.
public enum EventLoopThread {
    private static let key: pthread_key_t = {
        var key = pthread_key_t()
        pthread_key_create(&key, nil)
        return key
    }()

    /// Marks (or unmarks) the calling thread as running an event loop.
    public static func mark(_ isLoop: Bool) {
        pthread_setspecific(key, isLoop ? UnsafeRawPointer(bitPattern: 1) : nil)
    }

    /// Whether the calling thread is running an event loop.
    public static var isCurrent: Bool { pthread_getspecific(key) != nil }
}
