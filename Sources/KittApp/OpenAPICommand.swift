import KittAPI
import KittJSON

/// `kitt openapi [--markdown]`: the API reference, generated from the route declarations.
enum OpenAPICommand {
    static let openAPIHelp = """
        Usage: kitt openapi [--markdown]

        Print the API's OpenAPI 3.1 document (what GET /api/v1/openapi.json serves), or with
        --markdown the endpoint reference kept in docs/API.md.
        """

    static func run(_ arguments: [String]) -> Int32 {
        switch arguments {
        case []:
            print(OpenAPIDocument.make().jsonString)
            return 0
        case ["--markdown"]:
            print(APIReferenceMarkdown.make(), terminator: "")
            return 0
        case ["--help"], ["-h"]:
            print(openAPIHelp)
            return 0
        default:
            printError("kitt openapi: unexpected argument '\(arguments[0])' (see 'kitt openapi --help')")
            return 2
        }
    }
}
