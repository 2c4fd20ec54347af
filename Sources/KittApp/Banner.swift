import KittAPI

/// The first banner lines (SPEC §7.3): the address actually bound, in words, then the URL to use.
enum Banner {
    static func addressLines(host: String, port: Int, url: String, legacy: Bool, hostName: String) -> [String] {
        let bound = host.contains(":") ? "[\(host)]:\(port)" : "\(host):\(port)"
        let reach: String
        switch host {
        case "0.0.0.0": reach = "every IPv4 interface"
        case "::": reach = "every interface"
        case "127.0.0.1", "::1", "localhost": reach = "this machine only"
        default: reach = "this address only"
        }
        let path = legacy ? "/" : "/api/v1/"
        var lines = [
            "kitt \(KittVersion.current) \(legacy ? "legacy dashboard (read-only) " : "")listening on \(bound) (\(reach))",
            "URL: \(url)\(path)",
        ]
        if host == "0.0.0.0" || host == "::" {
            let scheme = url.hasPrefix("https") ? "https" : "http"
            lines.append("From other machines: \(scheme)://\(hostName):\(port)\(path)")
        }
        return lines
    }
}
