import KittNet

/// One connection to an engine for a streaming request: the body arrives piece by piece, so
/// the time of the first token can be measured (kitt's `HTTPClient` returns whole responses).
/// A `ClientStream` (plain or TLS, every wait bounded by one deadline) with engine errors.
final class EngineConnection {
    private let stream: ClientStream

    init(url: URLParts, tlsContext: TLSContext?, connectTimeout: Double, timeout: Double) throws(EngineError) {
        do {
            stream = try ClientStream(url: url, tlsContext: tlsContext, connectTimeout: connectTimeout, readTimeout: timeout)
        } catch {
            throw EngineError("cannot reach the engine at \(url.hostHeader): \(error)")
        }
    }

    func writeAll(_ bytes: [UInt8]) throws(EngineError) {
        do {
            try stream.writeAll(bytes)
        } catch {
            throw EngineError("sending to the engine failed: \(error)")
        }
    }

    /// Waits for bytes (bounded by the deadline); nil at the end of the stream.
    func read(into buffer: inout [UInt8]) throws(EngineError) -> Int? {
        do {
            return try stream.read(into: &buffer)
        } catch {
            throw EngineError("reading from the engine failed: \(error)")
        }
    }
}

/// Why a request to the engine failed (safe to log and to report to the server).
public struct EngineError: Error, Equatable, CustomStringConvertible {
    public let description: String
    public init(_ description: String) { self.description = description }
}
