import KittHTTP
import Testing

/// The one helper every route uses for integers from the query, the path and headers.
@Suite struct IntegerParameterTests {
    @Test(arguments: [
        ("1", 1...100, 1), ("100", 1...100, 100), ("+7", 1...100, 7), ("-5", Int.min...Int.max, -5),
        ("9223372036854775807", 1...Int.max, Int.max), ("-9223372036854775808", Int.min...0, Int.min),
    ])
    func inRange_isTheValue(text: String, range: ClosedRange<Int>, expected: Int) throws {
        #expect(try IntegerParameter.parse(text, name: "page", in: range) == expected)
    }

    @Test(arguments: [
        ("0", 1...Int.max, "page must be at least 1"), ("101", 1...100, "page must be from 1 to 100"),
        ("-1", 0...Int.max, "page must be at least 0"), ("5", Int.min...4, "page must be at most 4"),
        ("9223372036854775807", 1...1_000_000_000, "page must be from 1 to 1000000000"),
    ])
    func outOfRange_is400NamingTheParameter(text: String, range: ClosedRange<Int>, message: String) {
        #expect(throws: HTTPError.self) { try IntegerParameter.parse(text, name: "page", in: range) }
        do {
            _ = try IntegerParameter.parse(text, name: "page", in: range)
        } catch {
            #expect(error.status == .badRequest)
            #expect(error.message.hasPrefix(message), "\(error.message)")
        }
    }

    @Test(arguments: [
        "", " ", "1 ", " 1", "1.0", "1e3", "0x10", "NaN", "inf", "9223372036854775808", "-9223372036854775809",
        "99999999999999999999999999", "\u{FF11}", "1_000", "--1", "+",
    ])
    func notAnInteger_is400NamingTheParameter(text: String) {
        do {
            _ = try IntegerParameter.parse(text, name: "per_page", in: 1...Int.max)
            Issue.record("'\(text)' was accepted")
        } catch {
            #expect(error.status == .badRequest)
            #expect(error.message.hasPrefix("per_page must be an integer"), "\(error.message)")
        }
    }

    @Test func hugeValue_isCutInTheMessage() {
        let text = String(repeating: "9", count: 100_000)
        do {
            _ = try IntegerParameter.parse(text, name: "limit", in: 1...100)
            Issue.record("accepted")
        } catch {
            #expect(error.message.utf8.count < 200)
        }
    }

    @Test func requestHelpers_readQueryAndPath() throws {
        var request = HTTPRequest(method: .get, target: "/x/42?page=3&per_page=abc")
        request.pathParameters["index"] = "42"
        #expect(try request.queryInteger("page", in: 1...10) == 3)
        #expect(try request.queryInteger("missing", in: 1...10) == nil)
        #expect(try request.integerParameter("index", in: 0...Int.max) == 42)
        #expect(throws: HTTPError.self) { try request.queryInteger("per_page", in: 1...10) }
        #expect(throws: HTTPError.self) { try request.queryInteger("page", in: 5...10) }
    }
}
