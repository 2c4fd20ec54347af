import Foundation
import KittAPI
import KittTestSupport
import Testing

/// `GET /api/v1/openapi.json` from the running server passes a real OpenAPI 3.1 validator.
@Suite(.serialized) struct OpenAPITests {
    static let hasValidator = ExternalTools.hasPythonModule("openapi_spec_validator")

    static let validateScript = """
        import json, sys
        from openapi_spec_validator import validate
        from openapi_spec_validator.validation import OpenAPIV31SpecValidator
        document = json.load(open(sys.argv[1]))
        validate(document, cls=OpenAPIV31SpecValidator)
        print(len(document["paths"]))
        """

    @Test(.enabled(if: OpenAPITests.hasValidator, "python3 openapi-spec-validator is not installed (.ci/run installs it)"))
    func servedDocument_isValidOpenAPI31() throws {
        let server = try E2E.server()
        defer { server.stop() }
        let response = try server.request("GET", "/api/v1/openapi.json", token: nil)
        #expect(response.status == 200)
        let directory = TempDirectory("kitt-openapi")
        let file = directory.path + "/openapi.json"
        try Data(response.body).write(to: URL(fileURLWithPath: file))
        let result = try ChildProcess.run("/usr/bin/env", ["python3", "-c", OpenAPITests.validateScript, file])
        #expect(result.status == 0, "openapi-spec-validator: \(result.stderr)")
        #expect((Int(result.stdout.trimmingCharacters(in: .whitespacesAndNewlines)) ?? 0) > 30)
    }
}
