#if canImport(Glibc)
import Glibc
#endif

/// Plain HTTP sent to the TLS port (SPEC §7.3): a TLS connection begins with a handshake record
/// (byte 0x16), an HTTP request with a method name. Like nginx, such a client gets a plain-text
/// 400 saying to use https, instead of a reset it cannot explain.
enum PlainHTTPProbe {
    enum Verdict { case noData, tls, plainHTTP }

    /// Peeks at the first bytes without consuming them (OpenSSL reads them next if this is TLS).
    static func inspect(fd: Int32) -> Verdict {
        var bytes = [UInt8](repeating: 0, count: 8)
        let count = bytes.withUnsafeMutableBytes { recv(fd, $0.baseAddress, $0.count, Int32(MSG_PEEK)) }
        guard count > 0 else { return .noData }
        return looksLikeHTTP(bytes[0..<count]) ? .plainHTTP : .tls
    }

    /// An uppercase method token then a space (or the start of one): `GET `, `POST`, `OPTIONS`...
    static func looksLikeHTTP(_ bytes: ArraySlice<UInt8>) -> Bool {
        var sawLetter = false
        for byte in bytes {
            if byte >= UInt8(ascii: "A") && byte <= UInt8(ascii: "Z") {
                sawLetter = true
            } else {
                return sawLetter && byte == UInt8(ascii: " ")
            }
        }
        return sawLetter
    }

    static func response(port: Int) -> [UInt8] {
        let body = """
            400 Bad Request: this is an HTTPS port and a plain HTTP request was sent to it.
            Use https://<host>:\(port)/ instead (kitt's CA certificate is certs/ca.pem in its data dir).

            """
        let head = "HTTP/1.1 400 Bad Request\r\nContent-Type: text/plain; charset=utf-8\r\n"
            + "Content-Length: \(body.utf8.count)\r\nConnection: close\r\n\r\n"
        return Array((head + body).utf8)
    }
}
