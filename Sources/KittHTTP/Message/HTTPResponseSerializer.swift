/// Writes response heads. The server decides keep-alive and framing; this only formats.
public enum HTTPResponseSerializer {
    public enum Framing: Sendable {
        /// `Content-Length: n` (also sent for HEAD, describing the GET body).
        case contentLength(Int)
        /// No length: the body ends when the connection closes (SSE streams).
        case untilClose
    }

    /// The status line and headers, ending with the blank line. `Date`, `Content-Length`
    /// and `Connection` are added here; a handler's own values for them are replaced.
    public static func head(
        _ response: HTTPResponse, version: HTTPVersion = .http11, framing: Framing, keepAlive: Bool,
        into buffer: inout [UInt8]
    ) {
        append("HTTP/1.1 \(response.status.code) \(response.status.reason)\r\n", to: &buffer)
        append("Date: \(HTTPDate.now())\r\n", to: &buffer)
        for field in response.headers {
            switch field.lowercasedName {
            case "content-length", "connection", "date", "transfer-encoding": continue
            default:
                // A CR or LF in a value would split the response (header injection): never emit one.
                if field.value.utf8.contains(where: { $0 == 13 || $0 == 10 }) {
                    let clean = String(decoding: field.value.utf8.filter { $0 != 13 && $0 != 10 }, as: UTF8.self)
                    append("\(field.name): \(clean)\r\n", to: &buffer)
                } else {
                    append("\(field.name): \(field.value)\r\n", to: &buffer)
                }
            }
        }
        switch framing {
        case .contentLength(let length): append("Content-Length: \(length)\r\n", to: &buffer)
        case .untilClose: break
        }
        if !keepAlive {
            append("Connection: close\r\n", to: &buffer)
        } else if version == .http10 {
            append("Connection: keep-alive\r\n", to: &buffer)
        }
        append("\r\n", to: &buffer)
    }

    /// The interim response sent before reading a body the client is holding back.
    public static let continueHead: [UInt8] = Array("HTTP/1.1 100 Continue\r\n\r\n".utf8)

    @inline(__always)
    static func append(_ text: String, to buffer: inout [UInt8]) {
        var text = text
        text.withUTF8 { buffer.append(contentsOf: $0) }
    }
}
