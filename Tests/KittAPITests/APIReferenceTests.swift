import Foundation
import KittAPI
import KittHTTP
import KittJSON
import KittTestSupport
import Testing

/// The API reference cannot drift (SPEC §7.3): every route the router registers is declared,
/// every declaration is a route, and docs/API.md is what the declarations generate.
@Suite struct APIReferenceTests {
    @Test func everyRegisteredRoute_isDeclared_andEveryDeclarationIsARoute() throws {
        let harness = try APIHarness()
        let registered = Set(harness.router.routes.map { "\($0.method.rawValue) \($0.pattern)" })
        let declared = Set(APIReference.declarations.map { "\($0.method.rawValue) \($0.pattern)" })
        let undeclared = registered.subtracting(declared).sorted()
        let unrouted = declared.subtracting(registered).sorted()
        #expect(undeclared.isEmpty, "routes missing from Sources/KittAPI/Core/APIReference.swift: \(undeclared)")
        #expect(unrouted.isEmpty, "declarations with no route: \(unrouted)")
        #expect(APIReference.declarations.count == declared.count, "a (method, pattern) is declared twice")
    }

    @Test func openAPIDocument_hasEveryRouteAsAnOperation() throws {
        let harness = try APIHarness()
        let response = harness.call(.get, "/api/v1/openapi.json")
        #expect(response.status == 200)
        let document = try #require(response.json)
        #expect(document["openapi"]?.stringValue == "3.1.0")
        let paths = try #require(document["paths"]?.objectValue)
        for route in harness.router.routes {
            let path = "/" + route.pattern.split(separator: "/").map { segment in
                segment.hasPrefix(":") || segment.hasPrefix("*") ? "{\(segment.dropFirst())}" : String(segment)
            }.joined(separator: "/")
            let operation = paths[path]?[route.method.rawValue.lowercased()]
            #expect(operation?["responses"] != nil, "\(route.method.rawValue) \(route.pattern) is not in openapi.json")
        }
    }

    @Test func committedReference_matchesTheDeclarations() throws {
        let path = APIHarness.repositoryRoot + "/docs/API.md"
        let committed = try String(contentsOfFile: path, encoding: .utf8)
        #expect(committed == APIReferenceMarkdown.make(), "docs/API.md is stale: run `kitt openapi --markdown > docs/API.md`")
    }

    @Test func root_andAPIRoot_linkToTheReferenceAndHealth() throws {
        let harness = try APIHarness()
        for target in ["/", "/api/v1", "/api/v1/"] {
            let response = harness.call(.get, target)
            #expect(response.status == 200, "\(target): \(response)")
            #expect(response.json?["openapi"]?.stringValue == "/api/v1/openapi.json", "\(target)")
            #expect(response.json?["health"]?.stringValue == "/api/v1/health", "\(target)")
            #expect(response.json?["web_ui"]?.stringValue == "/", "\(target)")
        }
    }

    /// The declared auth is the auth the handlers enforce: without a token, exactly the routes
    /// declared admin or agent answer 401 (auth is checked before existence, SPEC §3).
    @Test func declaredAccess_matchesWhatTheHandlersEnforce() throws {
        let harness = try APIHarness()
        // Streams never end, and the agent bundle routes (all open) take seconds to build it.
        for declaration in APIReference.declarations
        where declaration.answer.mediaType != "text/event-stream" && declaration.tag != "Agent bundle" {
            let path = "/" + declaration.pattern.split(separator: "/").map { segment in
                segment.hasPrefix(":") ? "0123456789abcdef" : segment.hasPrefix("*") ? "org/model" : String(segment)
            }.joined(separator: "/")
            let body: JSON? = declaration.body == nil ? nil : [:]
            let response = harness.call(declaration.method, path, json: body)
            let protected = declaration.access == .admin || declaration.access == .agent
            #expect(
                (response.status == 401) == protected,
                "\(declaration.method.rawValue) \(declaration.pattern) is declared '\(declaration.access.rawValue)' but answered \(response)")
        }
    }
}
