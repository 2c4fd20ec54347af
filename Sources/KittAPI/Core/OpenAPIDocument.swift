import KittBase
import KittHTTP
import KittJSON

/// The OpenAPI 3.1 document of `APIReference.declarations`.
public enum OpenAPIDocument {
    public static func make(
        version: String = KittVersion.current, declarations: [RouteDeclaration] = APIReference.declarations
    ) -> JSON {
        var paths: [(String, [(String, JSON)])] = []
        for declaration in declarations {
            let operation = (declaration.method.rawValue.lowercased(), self.operation(declaration))
            if let index = paths.firstIndex(where: { $0.0 == declaration.openAPIPath }) {
                paths[index].1.append(operation)
            } else {
                paths.append((declaration.openAPIPath, [operation]))
            }
        }
        var tags: [String] = []
        for declaration in declarations where !tags.contains(declaration.tag) { tags.append(declaration.tag) }
        let schemas = (APIReference.components + [APIReference.indexSchema]).map { ($0.0, $0.1.json) }
        return .object(
            JSONObject([
                ("openapi", "3.1.0"),
                (
                    "info",
                    .object(
                        JSONObject([
                            ("title", "kitt"), ("version", .string(version)),
                            (
                                "description",
                                "The KITT REST API served by kitt. Errors are JSON {\"error\": \"...\"}; collections use the page envelope."
                            ),
                        ]))
                ),
                ("servers", [["url": "/"]]),
                ("tags", .array(tags.map { ["name": .string($0)] })),
                ("paths", .object(JSONObject(paths.map { ($0.0, JSON.object(JSONObject($0.1))) }))),
                (
                    "components",
                    .object(
                        JSONObject([
                            ("schemas", .object(JSONObject(schemas))),
                            (
                                "securitySchemes",
                                ["bearer": ["type": "http", "scheme": "bearer", "description": "Authorization: Bearer <token>"]]
                            ),
                        ]))
                ),
            ]))
    }

    /// `get_api_v1_agents_id`: unique per (method, pattern).
    static func operationID(_ declaration: RouteDeclaration) -> String {
        let words = declaration.pattern.split(separator: "/").map { segment in
            String(String(segment.unicodeScalars.map { scalar -> Character in
                let ascii = scalar.isASCII && (("a"..."z").contains(scalar) || ("A"..."Z").contains(scalar) || ("0"..."9").contains(scalar))
                return ascii ? Character(scalar) : "_"
            }).trimmed("_"))
        }
        return ([declaration.method.rawValue.lowercased()] + (words.isEmpty ? ["root"] : words)).joined(separator: "_")
    }

    static func operation(_ declaration: RouteDeclaration) -> JSON {
        var pairs: [(String, JSON)] = [
            ("operationId", .string(operationID(declaration))),
            ("summary", .string(declaration.summary)),
            ("tags", [.string(declaration.tag)]),
        ]
        switch declaration.access {
        case .open: pairs.append(("security", []))
        case .admin, .agent: pairs.append(("security", [["bearer": []]]))
        case .optionalAdmin, .metricsToken: pairs.append(("security", [[:], ["bearer": []]]))
        }
        var parameters: [JSON] = declaration.pathParameters.map { name in
            let wildcard = declaration.pattern.contains("*\(name)")
            return [
                "name": .string(name), "in": "path", "required": true, "schema": ["type": "string"],
                "description": .string(wildcard ? "the rest of the path; may contain '/'" : "id (or name, where the API accepts one)"),
            ]
        }
        parameters += declaration.query.map { parameter in
            [
                "name": .string(parameter.name), "in": "query", "required": .bool(parameter.required),
                "schema": parameter.schema.json, "description": .string(parameter.description),
            ]
        }
        if !parameters.isEmpty { pairs.append(("parameters", .array(parameters))) }
        if let body = declaration.body {
            pairs.append(("requestBody", ["required": true, "content": ["application/json": ["schema": body.json]]]))
        }
        var responses: [(String, JSON)] = []
        let answer = declaration.answer
        var success: [(String, JSON)] = [("description", .string(answer.description.isEmpty ? "Success" : answer.description))]
        if let schema = answer.schema {
            success.append(("content", .object(JSONObject([(answer.mediaType, JSON.object(["schema": schema.json]))]))))
        }
        responses.append((String(answer.status), .object(JSONObject(success))))
        for status in declaration.errorStatuses {
            responses.append((
                String(status),
                [
                    "description": .string(reason(status)),
                    "content": ["application/json": ["schema": ["$ref": "#/components/schemas/Error"]]],
                ]
            ))
        }
        pairs.append(("responses", .object(JSONObject(responses))))
        return .object(JSONObject(pairs))
    }

    static func reason(_ status: Int) -> String {
        let known: [HTTPStatus] = [
            .badRequest, .unauthorized, .forbidden, .notFound, .methodNotAllowed, .requestTimeout, .conflict,
            .payloadTooLarge, .uriTooLong, .headerFieldsTooLarge, .internalServerError, .unimplemented, .badGateway,
            .serviceUnavailable, .versionNotSupported,
        ]
        return known.first { $0.code == status }?.reason ?? "Error \(status)"
    }
}
