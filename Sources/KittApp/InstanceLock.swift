#if canImport(Glibc)
import Glibc
#endif
import KittBase
import Synchronization

/// "Is a server using this database?": `kitt web` holds an exclusive flock on `<db>.lock` (with
/// its pid inside) while it runs; `kitt restore` refuses to replace a database someone holds.
/// The kernel drops the lock when the process dies, so a crash never leaves a stale lock.
final class InstanceLock: Sendable {
    private let fd: Int32
    private let released = Atomic<Bool>(false)

    static func path(for databasePath: String) -> String { databasePath + ".lock" }

    /// Takes the lock or throws naming the pid that holds it.
    static func acquire(databasePath: String) throws -> InstanceLock {
        let path = InstanceLock.path(for: databasePath)
        let fd = open(path, O_RDWR | O_CREAT | O_CLOEXEC, 0o600)
        guard fd >= 0 else {
            let reason = String(cString: strerror(errno))
            throw CommandError("cannot open the database \(databasePath): cannot create \(path): \(reason)")
        }
        guard flock(fd, LOCK_EX | LOCK_NB) == 0 else {
            let holder = Files.readText(path)?.split(whereSeparator: \.isWhitespace).first.map(String.init) ?? "?"
            close(fd)
            throw LockedError(databasePath: databasePath, pid: holder)
        }
        ftruncate(fd, 0)
        let pid = Array("\(getpid())\n".utf8)
        _ = pid.withUnsafeBytes { pwrite(fd, $0.baseAddress, $0.count, 0) }
        return InstanceLock(fd: fd)
    }

    /// The pid text of the server holding the lock, or nil when none does.
    static func holder(databasePath: String) -> String? {
        do {
            let lock = try acquire(databasePath: databasePath)
            lock.release()
            return nil
        } catch let error as LockedError {
            return error.pid
        } catch {
            return nil
        }
    }

    private init(fd: Int32) { self.fd = fd }

    /// A server whose start failed half-way still lets go of the lock.
    deinit { release() }

    func release() {
        guard !released.exchange(true, ordering: .acquiringAndReleasing) else { return }
        flock(fd, LOCK_UN)
        close(fd)
    }

    struct LockedError: Error, CustomStringConvertible {
        let databasePath: String
        let pid: String
        var description: String { "a kitt server (pid \(pid)) is using \(databasePath); stop it first" }
    }
}
