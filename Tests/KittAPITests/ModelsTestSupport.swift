import Dispatch
import Foundation
import KittHTTP
import KittJSON
import KittTestSupport

@testable import KittAPI

/// A router with only the model routes over an APIHarness context (so Devon's timeout can be
/// short), and a caller that waits (bounded) for deferred responses.
struct ModelsRig {
    let harness: APIHarness
    let router: Router
    var token: String { harness.token }
    var modelDirectory: String { harness.context.settings.modelDirectory }

    init(devonURL: String? = nil, devonKey: String? = "devon-secret", devonTimeout: Double = 5) throws {
        harness = try APIHarness { settings in
            settings.devonURL = devonURL
            settings.devonAPIKey = devonKey
        }
        var router = Router()
        ModelsRoutes.register(in: &router, context: harness.context, devonReadTimeout: devonTimeout)
        self.router = router
        try FileManager.default.createDirectory(atPath: modelDirectory, withIntermediateDirectories: true)
    }

    func call(_ method: HTTPMethod, _ target: String, json: JSON? = nil, token: String? = nil) -> TestResponse {
        ModelsRig.call(router, method, target, json: json, token: token)
    }

    func admin(_ method: HTTPMethod, _ target: String, json: JSON? = nil) -> TestResponse {
        call(method, target, json: json, token: token)
    }

    static func call(_ router: Router, _ method: HTTPMethod, _ target: String, json: JSON? = nil, token: String? = nil)
        -> TestResponse
    {
        var headers = HTTPHeaders()
        headers.add(name: "Host", value: "localhost")
        if let token { headers.add(name: "Authorization", value: "Bearer \(token)") }
        let request = HTTPRequest(method: method, target: target, headers: headers, body: json?.serialized() ?? [])
        return resolve(router.respond(to: request))
    }

    static func resolve(_ response: HTTPResponse) -> TestResponse {
        APIHarness.resolve(response)
    }

    /// Writes a file (creating folders) under the model directory.
    func write(_ relative: String, bytes: Int = 16) throws {
        try ModelsRig.write(modelDirectory + "/" + relative, bytes: bytes)
    }

    static func write(_ path: String, bytes: Int = 16) throws {
        let folder = (path as NSString).deletingLastPathComponent
        try FileManager.default.createDirectory(atPath: folder, withIntermediateDirectories: true)
        try Data(repeating: 7, count: bytes).write(to: URL(fileURLWithPath: path))
    }

    func exists(_ relative: String) -> Bool {
        FileManager.default.fileExists(atPath: modelDirectory + "/" + relative)
    }
}
