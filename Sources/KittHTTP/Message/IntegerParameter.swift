/// The one way a handler reads an integer a client sent (query, path or header): parsed and
/// range-checked before any arithmetic, so no request can make the server overflow. Every
/// failure is a 400 that names the parameter.
public enum IntegerParameter {
    /// `text` as a decimal integer in `range` (an optional `+`/`-` sign, digits only).
    public static func parse(_ text: String, name: String, in range: ClosedRange<Int>) throws(HTTPError) -> Int {
        guard let value = Int(text) else {
            throw HTTPError.badRequest("\(name) must be an integer, got '\(shown(text))'")
        }
        guard range.contains(value) else {
            throw HTTPError.badRequest("\(name) must be \(describe(range)), got \(value)")
        }
        return value
    }

    /// "at least 1", "at most 10", "from 1 to 65535".
    static func describe(_ range: ClosedRange<Int>) -> String {
        switch (range.lowerBound == Int.min, range.upperBound == Int.max) {
        case (true, true): "an integer"
        case (false, true): "at least \(range.lowerBound)"
        case (true, false): "at most \(range.upperBound)"
        case (false, false): "from \(range.lowerBound) to \(range.upperBound)"
        }
    }

    /// The value quoted back in an error, cut so a huge parameter does not make a huge answer.
    static func shown(_ text: String) -> String {
        text.utf8.count <= 64 ? text : String(text.prefix(64)) + "..."
    }
}

extension HTTPRequest {
    /// Query parameter `name` as an integer in `range`; nil when absent.
    public func queryInteger(_ name: String, in range: ClosedRange<Int>) throws(HTTPError) -> Int? {
        guard let text = queryValue(name) else { return nil }
        return try IntegerParameter.parse(text, name: name, in: range)
    }

    /// Path parameter `name` (captured by the router) as an integer in `range`.
    public func integerParameter(_ name: String, in range: ClosedRange<Int>) throws(HTTPError) -> Int {
        try IntegerParameter.parse(parameter(name), name: name, in: range)
    }
}
