#if canImport(Glibc)
import Glibc
#endif
import Dispatch
import KittNet

/// Small helpers the API tests share; requests go through `APIHarness` and `APIClient.execute`.

struct HarnessError: Error, CustomStringConvertible {
    let description: String
    init(_ description: String) { self.description = description }
}

/// Polls `condition` until it holds or `seconds` pass (tests only).
@discardableResult
func waitUntil(_ seconds: Double = 5, _ condition: () throws -> Bool) rethrows -> Bool {
    let deadline = DispatchTime.now().uptimeNanoseconds + UInt64(seconds * 1e9)
    while DispatchTime.now().uptimeNanoseconds < deadline {
        if try condition() { return true }
        usleep(5_000)
    }
    return try condition()
}

/// SHA-256 hex for fixtures (agents' token hashes); KittNet's is checked against the FIPS vectors.
func sha256Hex(_ message: [UInt8]) -> String {
    SHA256.hex(message)
}
