import KittHTTP
import KittJSON

/// The collection envelope of SPEC §4: page/per_page validation and the envelope itself.
public struct Page: Sendable, Equatable {
    public let number: Int
    public let size: Int

    public static let defaultSize = 25
    public static let maxSize = 100
    /// The largest page asked for: with `maxSize` the offset stays far from overflowing
    /// (and from any table kitt could hold), whatever the client sends.
    public static let maxNumber = 1_000_000_000

    /// Rows to skip; saturates instead of trapping for values no request can produce.
    public var offset: Int {
        let (product, overflow) = (max(number, 1) - 1).multipliedReportingOverflow(by: max(size, 0))
        return overflow ? Int.max : product
    }

    public init(number: Int, size: Int) {
        self.number = number
        self.size = size
    }

    /// Reads `page` (1...maxNumber) and `per_page` (≥ 1; above 100 clamped): else 400 naming it.
    public init(from request: HTTPRequest) throws(HTTPError) {
        number = try request.queryInteger("page", in: 1...Page.maxNumber) ?? 1
        size = min(try request.queryInteger("per_page", in: 1...Int.max) ?? Page.defaultSize, Page.maxSize)
    }

    /// `{"items": [...], "total": N, "page": P, "per_page": K, "pages": ceil(N/K)}`.
    public func envelope(items: [JSON], total: Int) -> JSON {
        .object(
            JSONObject([
                ("items", .array(items)),
                ("total", .int(total)),
                ("page", .int(number)),
                ("per_page", .int(size)),
                ("pages", .int(size > 0 ? total / size + (total % size == 0 ? 0 : 1) : 0)),
            ]))
    }
}
