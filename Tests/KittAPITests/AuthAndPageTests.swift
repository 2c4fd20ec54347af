import KittAPI
import KittHTTP
import KittJSON
import Testing

struct AuthTests {
    static func request(_ authorization: String?) -> HTTPRequest {
        var headers = HTTPHeaders()
        if let authorization { headers.add(name: "Authorization", value: authorization) }
        return HTTPRequest(method: .post, target: "/x", headers: headers)
    }

    static func status(_ body: () throws -> Void) -> Int {
        do {
            try body()
            return 200
        } catch let error as HTTPError {
            return error.status.code
        } catch {
            return 500
        }
    }

    @Test(arguments: [
        (nil as String?, 401), ("Basic abc", 401), ("Bearer", 401), ("Bearer wrong", 403),
        ("Bearer secret-token-x", 403), ("Bearer secret-token", 200), ("bearer secret-token", 200),
    ])
    func adminTokenRules(header: String?, expected: Int) {
        let auth = Auth(adminToken: "secret-token")
        #expect(Self.status { try auth.requireAdmin(Self.request(header)) } == expected)
    }

    @Test func authOffAllowsEverything() {
        let auth = Auth(adminToken: nil)
        #expect(Self.status { try auth.requireAdmin(Self.request(nil)) } == 200)
    }

    @Test func constantTimeEqualsIsEquality() {
        #expect(Auth.constantTimeEquals("abc", "abc"))
        #expect(!Auth.constantTimeEquals("abc", "abd"))
        #expect(!Auth.constantTimeEquals("abc", "abcd"))
        #expect(!Auth.constantTimeEquals("", "a"))
        #expect(Auth.constantTimeEquals("", ""))
    }
}

struct PageTests {
    static func page(_ query: String) -> Result<Page, HTTPError> {
        Result { () throws(HTTPError) -> Page in try Page(from: HTTPRequest(method: .get, target: "/x?\(query)")) }
    }

    @Test func defaultsAndClamp() throws {
        #expect(try Self.page("").get() == Page(number: 1, size: 25))
        #expect(try Self.page("page=3&per_page=101").get() == Page(number: 3, size: 100))
        #expect(try Self.page("per_page=100").get().size == 100)
    }

    @Test(arguments: ["page=0", "page=-1", "page=abc", "per_page=0", "per_page=1.5", "per_page="])
    func rejectsBadValues(query: String) {
        guard case .failure(let error) = Self.page(query) else {
            Issue.record("\(query) accepted")
            return
        }
        #expect(error.status.code == 400)
    }

    @Test func envelopeCountsPages() {
        let envelope = Page(number: 2, size: 10).envelope(items: [1, 2], total: 21)
        #expect(envelope["total"]?.intValue == 21)
        #expect(envelope["page"]?.intValue == 2)
        #expect(envelope["per_page"]?.intValue == 10)
        #expect(envelope["pages"]?.intValue == 3)
        #expect(envelope["items"]?.arrayValue?.count == 2)
        #expect(Page(number: 1, size: 25).envelope(items: [], total: 0)["pages"]?.intValue == 0)
    }

    /// The largest page accepted still has an offset far from overflowing; past it → 400 naming page.
    @Test func largestPage_andBeyond() throws {
        let largest = try Self.page("page=1000000000&per_page=100").get()
        #expect(largest.offset == 99_999_999_900)
        guard case .failure(let error) = Self.page("page=1000000001") else {
            Issue.record("accepted")
            return
        }
        #expect(error.message == "page must be from 1 to 1000000000, got 1000000001")
    }

    /// Built directly (not from a request), extreme values saturate instead of trapping.
    @Test func extremeValues_neverTrap() {
        #expect(Page(number: Int.max, size: 100).offset == Int.max)
        #expect(Page(number: Int.min, size: 100).offset == 0)
        #expect(Page(number: 2, size: Int.max).offset == Int.max)
        #expect(Page(number: 1, size: 100).envelope(items: [], total: Int.max)["pages"]?.intValue == Int.max / 100 + 1)
        #expect(Page(number: 1, size: 0).envelope(items: [], total: 5)["pages"]?.intValue == 0)
    }
}
