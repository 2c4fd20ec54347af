import KittHTTP
import KittNet

/// The embedded assets, each served under a name that carries its content hash, so a page
/// can tell browsers to keep it forever: a new build means a new name.
public enum Assets {
    struct Asset: Sendable {
        let path: String
        let contentType: String
        let bytes: [UInt8]
    }

    static let style = make("app", "css", "text/css; charset=utf-8", AssetStyle.source)
    static let script = make("app", "js", "text/javascript; charset=utf-8", AssetScript.source)
    static let all: [String: Asset] = Dictionary(uniqueKeysWithValues: [style, script].map { ($0.path, $0) })

    /// `/assets/app.<first 12 hex of SHA-256>.css`.
    static func make(_ name: String, _ ext: String, _ type: String, _ source: String) -> Asset {
        let bytes = Array(source.utf8)
        let hash = String(SHA256.hex(bytes).prefix(12))
        return Asset(path: "/assets/\(name).\(hash).\(ext)", contentType: type, bytes: bytes)
    }

    static func register(in router: inout Router) {
        router.get("/assets/:name") { request in
            guard let asset = all["/assets/" + request.parameter("name")] else {
                throw HTTPError.notFound("no asset \(request.parameter("name"))")
            }
            var response = HTTPResponse.data(asset.bytes, contentType: asset.contentType)
            response.headers.add(name: "Cache-Control", value: "public, max-age=31536000, immutable")
            response.headers.add(name: "X-Content-Type-Options", value: "nosniff")
            return response
        }
    }
}
