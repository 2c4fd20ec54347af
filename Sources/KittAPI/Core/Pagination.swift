import KittHTTP
import KittJSON

/// The collection envelope of SPEC §4: page/per_page validation and the envelope itself.
public struct Page: Sendable, Equatable {
    public let number: Int
    public let size: Int

    public static let defaultSize = 25
    public static let maxSize = 100

    public var offset: Int { (number - 1) * size }

    public init(number: Int, size: Int) {
        self.number = number
        self.size = size
    }

    /// Reads `page` and `per_page`: not an integer or < 1 → 400; per_page > 100 is clamped.
    public init(from request: HTTPRequest) throws(HTTPError) {
        number = try Page.positiveInteger(request, "page") ?? 1
        size = min(try Page.positiveInteger(request, "per_page") ?? Page.defaultSize, Page.maxSize)
    }

    private static func positiveInteger(_ request: HTTPRequest, _ name: String) throws(HTTPError) -> Int? {
        guard let text = request.queryValue(name) else { return nil }
        guard let value = Int(text) else {
            throw HTTPError.badRequest("\(name) must be an integer, got '\(text)'")
        }
        guard value >= 1 else {
            throw HTTPError.badRequest("\(name) must be at least 1")
        }
        return value
    }

    /// `{"items": [...], "total": N, "page": P, "per_page": K, "pages": ceil(N/K)}`.
    public func envelope(items: [JSON], total: Int) -> JSON {
        .object(
            JSONObject([
                ("items", .array(items)),
                ("total", .int(total)),
                ("page", .int(number)),
                ("per_page", .int(size)),
                ("pages", .int((total + size - 1) / size)),
            ]))
    }
}
