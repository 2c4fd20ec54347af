/// docs/API.md: the human-readable form of `APIReference.declarations` (`kitt openapi --markdown`).
public enum APIReferenceMarkdown {
    public static func make() -> String {
        var out = """
            # kitt API reference

            Generated from the route declarations (`Sources/KittAPI/Core/APIReference.swift`) by
            `kitt openapi --markdown`; a test fails when this file differs from what that prints.
            The same declarations serve `GET /api/v1/openapi.json` (OpenAPI 3.1).

            Errors are JSON `{"error": "what went wrong"}`. Collections answer the envelope
            `{"items", "total", "page", "per_page", "pages"}`. *Auth* names the bearer token needed
            (`Authorization: Bearer <token>`): no header → 401, a wrong token → 403.
            `*` marks a required field.


            """
        var tags: [String] = []
        for declaration in APIReference.declarations where !tags.contains(declaration.tag) { tags.append(declaration.tag) }
        for tag in tags {
            out += "## \(tag)\n\n| Method | Path | Auth | What |\n|---|---|---|---|\n"
            let routes = APIReference.declarations.filter { $0.tag == tag }
            for route in routes {
                out += "| \(route.method.rawValue) | `\(route.pattern)` | \(route.access.label) | \(route.summary) |\n"
            }
            out += "\n"
            for route in routes {
                out += "### \(route.method.rawValue) \(route.pattern)\n\n\(route.summary).\n\n"
                if !route.query.isEmpty {
                    out += "Query: " + route.query.map { "`\($0.name)`\($0.required ? "*" : "") (\($0.description))" }
                        .joined(separator: ", ") + ".\n\n"
                }
                if let body = route.body { out += "Body: `\(body.brief)`\n\n" }
                let answer = route.answer
                out += "Answer: \(answer.status)"
                if answer.mediaType != "application/json" { out += " `\(answer.mediaType)`" }
                if let schema = answer.schema, answer.mediaType == "application/json" { out += " `\(schema.brief)`" }
                let errors = route.errorStatuses.map(String.init).joined(separator: ", ")
                out += "\n\nErrors: \(errors.isEmpty ? "none" : errors)\n\n"
            }
        }
        out += "## Schemas\n\n"
        for (name, schema) in APIReference.components + [APIReference.indexSchema] {
            out += "- **\(name)**: `\(schema.brief)`\n"
        }
        return out
    }
}
