import KittHTTP

#if canImport(Glibc)
    import Glibc
#endif

/// A small blocking HTTP/1.1 client for kitt's outbound calls (Devon, later the agent).
///
/// One connection per request (`Connection: close`), http or https. It blocks the calling
/// thread, so call it from a private `DispatchQueue`, never from an event loop or the
/// cooperative pool. Every wait is bounded: `connectTimeout` for the TCP connect, then
/// `readTimeout` for everything after it (handshake, sending, the whole response).
public struct HTTPClient: Sendable {
    public let tls: TLSContext?
    public let connectTimeout: Double
    public let readTimeout: Double
    public let maxResponseBytes: Int

    /// `tls`: the client context for https URLs (e.g. `TLSContext.client(caFile:)`); nil uses
    /// one built from the system trust store. Host names are verified either way.
    public init(
        tls: TLSContext? = nil, connectTimeout: Double = 5, readTimeout: Double = 30,
        maxResponseBytes: Int = 16 << 20
    ) {
        self.tls = tls
        self.connectTimeout = connectTimeout
        self.readTimeout = readTimeout
        self.maxResponseBytes = maxResponseBytes
    }

    /// A copy with a different read timeout (slow calls such as downloads).
    public func withReadTimeout(_ seconds: Double) -> HTTPClient {
        HTTPClient(tls: tls, connectTimeout: connectTimeout, readTimeout: seconds, maxResponseBytes: maxResponseBytes)
    }

    public func send(
        method: String, url: String, headers: [(String, String)] = [], body: [UInt8] = []
    ) throws(ClientError) -> HTTPResponseParser.ParsedResponse {
        _ = HTTPClient.ignoreSIGPIPE
        let parts = try URLParts(parsing: url)
        let request = try HTTPClient.serialize(method: method, url: parts, headers: headers, body: body)
        var context: TLSContext?
        if parts.isTLS {
            guard let chosen = tls ?? HTTPClient.systemTrust else {
                throw .tls("cannot load the system trust store")
            }
            context = chosen
        }
        let stream = try ClientStream(
            url: parts, tlsContext: context, connectTimeout: connectTimeout, readTimeout: readTimeout)
        try stream.writeAll(request)

        var parser = HTTPResponseParser(maxBytes: maxResponseBytes, isHeadRequest: method.uppercased() == "HEAD")
        var buffer = [UInt8](repeating: 0, count: 64 * 1024)
        do {
            while true {
                guard let count = try stream.read(into: &buffer) else {
                    if let response = try parser.complete(peerClosed: true) { return response }
                    throw ClientError.malformed("connection closed before the response ended")
                }
                try parser.append(Array(buffer[0..<count]))
                if let response = try parser.complete(peerClosed: false) { return response }
            }
        } catch let failure as HTTPResponseParser.Failure {
            switch failure {
            case .tooLarge: throw .tooLarge
            case .malformed(let why): throw .malformed(why)
            }
        } catch let error as ClientError {
            throw error
        } catch {
            throw .malformed("\(error)")
        }
    }

    /// Request line, headers and body. Header names and values with CR/LF are refused, so a
    /// caller's value can never inject a header.
    static func serialize(
        method: String, url: URLParts, headers: [(String, String)], body: [UInt8]
    ) throws(ClientError) -> [UInt8] {
        guard !method.isEmpty, method.utf8.allSatisfy({ $0 >= UInt8(ascii: "A") && $0 <= UInt8(ascii: "Z") }) else {
            throw .malformed("bad method '\(method)'")
        }
        var head = "\(method) \(url.pathAndQuery) HTTP/1.1\r\nHost: \(url.hostHeader)\r\n"
        var hasUserAgent = false
        for (name, value) in headers {
            guard HTTPToken.isValid(name) else {
                throw .malformed("bad header name '\(name)'")
            }
            guard !value.utf8.contains(where: { $0 == 13 || $0 == 10 || $0 == 0 }) else {
                throw .malformed("bad value for header '\(name)'")
            }
            let lower = name.lowercased()
            if lower == "host" || lower == "content-length" || lower == "connection" || lower == "transfer-encoding" {
                continue  // the client sets these itself
            }
            if lower == "user-agent" { hasUserAgent = true }
            head += "\(name): \(value)\r\n"
        }
        if !hasUserAgent { head += "User-Agent: kitt\r\n" }
        if !body.isEmpty || ["POST", "PUT", "PATCH"].contains(method) {
            head += "Content-Length: \(body.count)\r\n"
        }
        head += "Connection: close\r\n\r\n"
        return Array(head.utf8) + body
    }

    /// Built once, on first https use without a given context (reads the trust store from disk).
    static let systemTrust: TLSContext? = try? TLSContext.client(caFile: nil)

    /// OpenSSL writes with plain write(2): a peer that has gone must give EPIPE, not kill us.
    static let ignoreSIGPIPE: Void = { _ = signal(SIGPIPE, SIG_IGN) }()
}
