import Testing
@testable import KittJSON

/// What kitt serves must never carry a key twice: strict parsing of what it stores, and the
/// splice that puts kitt's `"id"` in front of a stored document.
@Suite struct UniqueKeysTests {
    @Test(arguments: [
        #"{"a":1,"a":2}"#, #"{"a":1,"b":{"c":1,"c":1}}"#, #"[{"x":[{"y":0,"y":0}]}]"#, #"{"id":1,"\u0069d":2}"#,
        #"{"k0":0,"k1":0,"k2":0,"k3":0,"k4":0,"k5":0,"k6":0,"k7":0,"k8":0,"k9":0,"k10":0,"k11":0,"k12":0,"k13":0,"k3":1}"#,
    ])
    func duplicateKey_failsTheUniqueParseOnly(_ text: String) throws {
        #expect(throws: JSONParseError.self) { try JSON(parsing: Array(text.utf8), uniqueKeys: true) }
        do {
            _ = try JSON(parsing: Array(text.utf8), uniqueKeys: true)
        } catch {
            #expect(error.message.hasPrefix("duplicate key"), "\(error)")
        }
        _ = try JSON(parsing: Array(text.utf8))  // the lenient parse keeps last-wins
    }

    @Test func sameKeyInSiblingObjects_isFine() throws {
        _ = try JSON(parsing: Array(#"{"a":{"x":1},"b":{"x":2},"c":[{"x":3},{"x":4}]}"#.utf8), uniqueKeys: true)
    }

    static let spliceCases: [(stored: String, served: String)] = [
        (#"{"model":"m"}"#, #"{"id":"K","model":"m"}"#),
        (#"  { "model" : "m" }  "#, #"{"id":"K", "model" : "m" }  "#),
        (#"{}"#, #"{"id":"K"}"#),
        (#"{ }"#, #"{"id":"K" }"#),
        (#"{"id":"mine","model":"m"}"#, #"{"id":"K","model":"m"}"#),
        (#"{"model":"m", "id" : 7 }"#, #"{"id":"K","model":"m"}"#),
        (#"{"a":[1,{"id":2}],"id":{"x":"}"},"b":"id\"}"}"#, #"{"id":"K","a":[1,{"id":2}],"b":"id\"}"}"#),
        (#"{"\u0069d":"escaped","m":1e308}"#, #"{"id":"K","m":1e308}"#),
        (#"{"i\u0064":1,"id":2}"#, #"{"id":"K"}"#),
        (#"{"id":1}"#, #"{"id":"K"}"#),
        (#"{"idx":1,"ID":2,"x":"\"id\""}"#, #"{"id":"K","idx":1,"ID":2,"x":"\"id\""}"#),
        (#"{"path":"C:\\users","n":-0}"#, #"{"id":"K","path":"C:\\users","n":-0}"#),
        ("not an object", #"{"id":"K"}"#),
    ]

    @Test(arguments: spliceCases)
    func splice_putsKittsIDFirstAndOnlyOnce(stored: String, served: String) throws {
        var out: [UInt8] = []
        Array(stored.utf8).withUnsafeBytes { JSONSplice.appendObject(id: "K", members: $0, to: &out) }
        #expect(String(decoding: out, as: UTF8.self) == served)
        let parsed = try JSON(parsing: out, uniqueKeys: true)
        #expect(parsed.objectValue?["id"] == "K")
    }

    @Test func splice_ofTruncatedBytes_neverTraps() {
        let stored = Array(#"{"id":"x","a":[1,{"b":"c\"d"}],"e":{"f":null}}"#.utf8)
        for end in 0...stored.count {
            var out: [UInt8] = []
            stored[..<end].withUnsafeBytes { JSONSplice.appendObject(id: "K", members: $0, to: &out) }
            #expect(out.starts(with: Array(#"{"id":"K""#.utf8)))
        }
    }
}
