import Testing
@testable import KittJSON

private func bytes(_ s: String) -> [UInt8] { Array(s.utf8) }

private func parse(_ s: String) throws(JSONParseError) -> JSON { try JSON(parsing: bytes(s)) }

private func parseError(_ input: [UInt8], maxDepth: Int = 256) -> JSONParseError? {
    do throws(JSONParseError) {
        _ = try JSON(parsing: input, maxDepth: maxDepth)
        return nil
    } catch {
        return error
    }
}

// MARK: - Valid documents

@Suite struct ValidDocuments {
    static let documents: [String] = [
        "null", "true", "false", "0", "-1", "1.5", "\"\"", "\"hello\"", "[]", "{}",
        " \t\r\n[1, 2 ,3]\n ",
        #"{"a":1,"b":[true,false,null],"c":{"d":"e"}}"#,
        #"[{"x":-0.25e-3},{"y":1E+2},"\u00e9\n\"\\\/"]"#,
        #"{"emoji":"😀","cjk":"漢字","mixed":"a\ud83d\ude00b"}"#,
        #"[[[[[[[[[[]]]]]]]]]]"#,
        #"{"":0,"k":""}"#,
        "[1.7976931348623157e308,5e-324,-9223372036854775808,9223372036854775807,12345678901234567890]",
    ]

    @Test(arguments: documents)
    func roundTrips(_ text: String) throws {
        let value = try parse(text)
        let out = value.serialized()
        let again = try JSON(parsing: out)
        #expect(again == value)
        #expect(again.serialized() == out, "serialization must be stable")
    }

    @Test(arguments: documents)
    func stringAndByteEntryPointsAgree(_ text: String) throws {
        #expect(try JSON(parsing: text) == (try parse(text)))
    }

    @Test func compactOutput() throws {
        let value = try parse(#" { "a" : [ 1 , 2 ] , "b" : { } , "c" : "x y" } "#)
        #expect(value.jsonString == #"{"a":[1,2],"b":{},"c":"x y"}"#)
    }

    @Test func wholeStructure() throws {
        let value = try parse(#"{"a":1,"b":[true,null,"s"],"c":{"d":2.5}}"#)
        let expected: JSON = ["a": 1, "b": [true, nil, "s"], "c": ["d": 2.5]]
        #expect(value == expected)
    }
}

// MARK: - Invalid documents

struct InvalidCase: CustomTestStringConvertible, Sendable {
    let name: String
    let input: [UInt8]
    let offset: Int
    let messageContains: String
    var testDescription: String { name }
    init(_ name: String, _ input: [UInt8], _ offset: Int, _ messageContains: String) {
        self.name = name
        self.input = input
        self.offset = offset
        self.messageContains = messageContains
    }
    init(_ text: String, _ offset: Int, _ messageContains: String) {
        self.init(text, Array(text.utf8), offset, messageContains)
    }
}

@Suite struct InvalidDocuments {
    static let cases: [InvalidCase] = [
        InvalidCase(#"{"a":1,}"#, 7, "expected object key"),
        InvalidCase("[1,]", 3, "expected value"),
        InvalidCase("[01]", 1, "leading zeros"),
        InvalidCase("-01", 1, "leading zeros"),
        InvalidCase("raw NUL in string", [0x22, 0x00, 0x22], 1, "control character U+0000"),
        InvalidCase("raw newline in string", [0x22, 0x61, 0x0A, 0x22], 2, "control character U+000A"),
        InvalidCase(#""\ud800""#, 1, "unpaired"),
        InvalidCase(#""\udc00""#, 1, "unpaired"),
        InvalidCase(#""\ud800\u0041""#, 1, "unpaired"),
        InvalidCase(#""\ud800\n""#, 1, "unpaired"),
        InvalidCase(#""\x""#, 1, "invalid escape"),
        InvalidCase(#""\u12g4""#, 5, "hex digit"),
        InvalidCase("1e", 2, "end of input"),
        InvalidCase("1e+", 3, "digit in exponent"),
        InvalidCase("1.", 2, "digit after decimal point"),
        InvalidCase("1.e5", 2, "digit after decimal point"),
        InvalidCase(".5", 0, "expected value"),
        InvalidCase("+1", 0, "expected value"),
        InvalidCase("-", 1, "end of input"),
        InvalidCase("-a", 1, "expected digit"),
        InvalidCase("tru", 3, "end of input"),
        InvalidCase("trux", 3, "'true'"),
        InvalidCase("nul", 3, "'null'"),
        InvalidCase("NaN", 0, "unexpected character 'N'"),
        InvalidCase("Infinity", 0, "unexpected character 'I'"),
        InvalidCase("-Infinity", 1, "expected digit"),
        InvalidCase("'a'", 0, "unexpected character '''"),
        InvalidCase(#"{"a" 1}"#, 5, "':' after object key"),
        InvalidCase(#"{a:1}"#, 1, "expected object key"),
        InvalidCase(#"{"a":1 "b":2}"#, 7, "',' or '}'"),
        InvalidCase("[1 2]", 3, "',' or ']'"),
        InvalidCase("depth 300", Array(repeating: UInt8(ascii: "["), count: 300), 256, "nesting depth"),
        InvalidCase("bare invalid UTF-8", [0xC3, 0x28], 0, "byte 0xC3"),
        InvalidCase("invalid UTF-8 in string", [0x22, 0xC3, 0x28, 0x22], 1, "invalid UTF-8"),
        InvalidCase("overlong UTF-8", [0x22, 0xC0, 0xAF, 0x22], 1, "invalid UTF-8"),
        InvalidCase("UTF-8 encoded surrogate", [0x22, 0xED, 0xA0, 0x80, 0x22], 1, "invalid UTF-8"),
        InvalidCase("UTF-8 above U+10FFFF", [0x22, 0xF4, 0x90, 0x80, 0x80, 0x22], 1, "invalid UTF-8"),
        InvalidCase("truncated UTF-8 at end", [0x22, 0xE2, 0x82], 1, "invalid UTF-8"),
        InvalidCase("empty input", [], 0, "end of input"),
        InvalidCase("   ", 3, "end of input"),
        InvalidCase("1 2", 2, "unexpected character '2'"),
        InvalidCase("{} x", 3, "expected end of input"),
        InvalidCase(#""abc"#, 0, "unterminated string"),
        InvalidCase("[", 1, "end of input"),
        InvalidCase(#"{"a":"#, 5, "end of input"),
        InvalidCase("1e400", 0, "out of range"),
        InvalidCase("-1e400", 0, "out of range"),
        InvalidCase("\u{FEFF}1", 0, "byte 0xEF"),
    ]

    @Test(arguments: cases)
    func rejects(_ c: InvalidCase) {
        guard let error = parseError(c.input) else {
            Issue.record("\(c.name) parsed but should fail")
            return
        }
        #expect(error.offset == c.offset, "\(error)")
        #expect(error.message.contains(c.messageContains), "\(error)")
        #expect(error.description == "\(error.message) at byte \(error.offset)")
    }

    @Test func descriptionFormat() {
        let error = parseError(bytes(#"{"a":1,}"#))
        #expect(error?.description == "unexpected character '}' (expected object key) at byte 7")
    }

    @Test func depthLimitIsInclusive() throws {
        let ok = Array(repeating: UInt8(ascii: "["), count: 256) + Array(repeating: UInt8(ascii: "]"), count: 256)
        _ = try JSON(parsing: ok)
        let objects = Array(repeating: #"{"a":"#, count: 10).joined() + "1" + String(repeating: "}", count: 10)
        #expect(parseError(bytes(objects), maxDepth: 9)?.offset == 45)
        #expect(parseError(bytes(objects), maxDepth: 10) == nil)
        #expect(parseError(bytes("[]"), maxDepth: 0)?.message.contains("nesting depth") == true)
        #expect(parseError(bytes("1"), maxDepth: 0) == nil)
    }

    /// Every prefix and every single-byte corruption of a valid document must parse or throw with an
    /// in-range offset (never trap).
    @Test func prefixesAndCorruptionsNeverTrap() {
        let doc = bytes(#"{"a":[1,-2.5e3,"x\u00e9\ud83d\ude00y",true,null,{"b":false}],"é":"😀"}"#)
        for n in 0..<doc.count {
            let error = parseError(Array(doc[..<n]))
            #expect(error != nil, "prefix \(n) must be invalid")
            if let error { #expect((0...n).contains(error.offset)) }
        }
        var rng = LCG(seed: 42)
        let interesting: [UInt8] = [0x00, 0x22, 0x5C, 0x7B, 0x7D, 0x5B, 0x5D, 0x2C, 0x3A, 0x30, 0x2D, 0x65, 0xC3, 0xED, 0xFF, 0x75]
        for _ in 0..<2000 {
            var mutated = doc
            let i = Int(rng.next() % UInt64(doc.count))
            mutated[i] = interesting[Int(rng.next() % UInt64(interesting.count))]
            if let error = parseError(mutated) {
                #expect((0...mutated.count).contains(error.offset))
            }
        }
    }
}

// MARK: - Numbers

@Suite struct Numbers {
    static let cases: [(String, JSON)] = [
        ("0", .int(0)),
        ("-0", .int(0)),
        ("-0.0", .double(-0.0)),
        ("1.5", .double(1.5)),
        ("-1.5", .double(-1.5)),
        ("1e3", .double(1000)),
        ("1E3", .double(1000)),
        ("1e+3", .double(1000)),
        ("1e-3", .double(0.001)),
        ("10.0", .double(10)),
        ("123", .int(123)),
        ("9223372036854775807", .int(Int.max)),
        ("9223372036854775808", .double(9223372036854775808.0)),
        ("-9223372036854775808", .int(Int.min)),
        ("-9223372036854775809", .double(-9223372036854775809.0)),
        ("100000000000000000000000", .double(1e23)),
        ("0.1", .double(0.1)),
        ("1e-400", .double(0)),
    ]

    @Test(arguments: cases)
    func parses(_ text: String, _ expected: JSON) throws {
        let value = try parse(text)
        #expect(value == expected)
        #expect(value.typeName == expected.typeName)
    }

    @Test func negativeZeroDoubleKeepsSign() throws {
        #expect(try parse("-0.0").doubleValue?.sign == .minus)
        #expect(JSON.double(-0.0).jsonString == "-0.0")
    }

    @Test(arguments: [
        (JSON.int(0), "0"), (.int(7), "7"), (.int(-7), "-7"), (.int(10), "10"), (.int(1234567890), "1234567890"),
        (.int(Int.max), "9223372036854775807"), (.int(Int.min), "-9223372036854775808"),
        (.double(2), "2.0"), (.double(1.5), "1.5"), (.double(0.1), "0.1"), (.double(1e300), "1e+300"),
        (.double(.infinity), "null"), (.double(-.infinity), "null"), (.double(.nan), "null"),
    ])
    func serializes(_ value: JSON, _ expected: String) {
        #expect(value.jsonString == expected)
    }
}

// MARK: - Strings

@Suite struct Strings {
    @Test(arguments: [
        (#""\ud83d\ude00""#, "😀"),
        (#""\uD83D\uDE00""#, "😀"),
        (#""\u00e9""#, "é"),
        (#""\u0000""#, "\u{0}"),
        (#""\"\\\/\b\f\n\r\t""#, "\"\\/\u{8}\u{C}\n\r\t"),
        (#""a\nb😀c""#, "a\nb😀c"),
        (#""plain ascii""#, "plain ascii"),
        (#""héllo wörld""#, "héllo wörld"),
        ("\"\u{10FFFF}\"", "\u{10FFFF}"),
    ])
    func unescapes(_ text: String, _ expected: String) throws {
        #expect(try parse(text) == .string(expected))
    }

    @Test(arguments: [
        ("\"", #""\"""#),
        ("\\", #""\\""#),
        ("\n\r\t\u{8}\u{C}", #""\n\r\t\b\f""#),
        ("\u{0}\u{1}\u{1F}", #""\u0000\u0001\u001f""#),
        ("</script>&", #""</script>&""#),
        ("\u{7F}\u{2028}é😀", "\"\u{7F}\u{2028}é😀\""),
        ("/", #""/""#),
    ])
    func escapesOnWrite(_ value: String, _ expected: String) {
        var buffer: [UInt8] = [0x41]
        JSONWriter.writeString(value, into: &buffer)
        #expect(buffer == [0x41] + Array(expected.utf8))
    }

    @Test func everyControlCharacterRoundTrips() throws {
        let s = String(String.UnicodeScalarView((0..<0x20).map { Unicode.Scalar(UInt8($0)) }))
        let out = JSON.string(s).serialized()
        #expect(!out.dropFirst().dropLast().contains { $0 < 0x20 })
        #expect(try JSON(parsing: out) == .string(s))
    }
}

// MARK: - Objects

@Suite struct Objects {
    @Test func parsedOrderIsKept() throws {
        let value = try parse(#"{"z":1,"a":2,"m":3}"#)
        #expect(value.objectValue?.keys == ["z", "a", "m"])
        #expect(value.jsonString == #"{"z":1,"a":2,"m":3}"#)
    }

    @Test(arguments: [3, 40])
    func insertionOrderIsKept(_ n: Int) {
        var object = JSONObject()
        let keys = (0..<n).map { "k\((n - $0) * 7 % 101)" }
        for (i, k) in keys.enumerated() { object[k] = .int(i) }
        #expect(object.keys == keys)
        #expect(object.map(\.key) == keys)
        #expect(object.map(\.value) == (0..<n).map { JSON.int($0) })
    }

    @Test(arguments: [3, 40])
    func duplicateKeysLastWinsKeepFirstPosition(_ n: Int) throws {
        let filler = (0..<n).map { #""f\#($0)":0"# }.joined(separator: ",")
        let value = try parse(#"{"a":1,\#(filler),"b":2,"a":3}"#)
        let object = try #require(value.objectValue)
        #expect(object["a"] == 3)
        #expect(object.keys.first == "a")
        #expect(object.count == n + 2)
        let literal: JSONObject = ["x": 1, "y": 2, "x": 3]
        #expect(literal.keys == ["x", "y"])
        #expect(literal["x"] == 3)
    }

    @Test(arguments: [3, 40])
    func subscriptSetReplacesRemovesAppends(_ n: Int) {
        var object = JSONObject((0..<n).map { ("k\($0)", JSON.int($0)) })
        object["k1"] = "replaced"
        #expect(object.keys[1] == "k1")
        #expect(object["k1"] == "replaced")
        object["k0"] = nil
        #expect(object["k0"] == nil)
        #expect(object.count == n - 1)
        #expect(object.keys.first == "k1")
        object["new"] = true
        #expect(object.keys.last == "new")
        #expect(object["new"] == true)
        object["missing"] = nil
        #expect(object.count == n)
        for i in 2..<n { #expect(object["k\(i)"] == .int(i)) }
        object["k0"] = 0
        #expect(object.keys.last == "k0")
    }

    @Test func shrinkingBelowIndexThresholdStillFinds() {
        var object = JSONObject((0..<20).map { ("k\($0)", JSON.int($0)) })
        for i in 0..<15 { object["k\(i)"] = nil }
        #expect(object.keys == ["k15", "k16", "k17", "k18", "k19"])
        #expect(object["k17"] == 17)
        #expect(object["k3"] == nil)
        #expect(object.isEmpty == false)
        #expect(JSONObject().isEmpty)
    }

    @Test func equalityAndHashIgnoreOrder() {
        let a: JSONObject = ["x": 1, "y": [1, 2]]
        let b: JSONObject = ["y": [1, 2], "x": 1]
        let c: JSONObject = ["x": 1, "y": [2, 1]]
        #expect(a == b)
        #expect(a.hashValue == b.hashValue)
        #expect(a != c)
        #expect(a != ["x": 1])
        #expect(Set([JSON.object(a), .object(b)]).count == 1)
    }
}

// MARK: - Accessors, literals, raw

@Suite struct Accessors {
    @Test(arguments: [
        (JSON.int(3), 3 as Int?), (.double(3.0), 3), (.double(3.5), nil), (.double(-0.0), 0),
        (.double(9.3e18), nil), (.double(.nan), nil), (.string("3"), nil), (.bool(true), nil), (.null, nil),
    ])
    func intValue(_ value: JSON, _ expected: Int?) {
        #expect(value.intValue == expected)
    }

    @Test func otherAccessors() throws {
        let value: JSON = ["s": "str", "b": false, "i": 4, "d": 0.5, "a": [nil], "o": [:], "n": nil]
        #expect(value["s"]?.stringValue == "str")
        #expect(value["b"]?.boolValue == false)
        #expect(value["i"]?.doubleValue == 4)
        #expect(value["d"]?.doubleValue == 0.5)
        #expect(value["a"]?.arrayValue == [.null])
        #expect(value["o"]?.objectValue == JSONObject())
        #expect(value["n"]?.isNull == true)
        #expect(value["missing"] == nil)
        #expect(value["s"]?["x"] == nil)
        #expect(value["s"]?.intValue == nil)
        #expect(value["i"]?.stringValue == nil)
        #expect(JSON.int(1).isNull == false)
        #expect(value.objectValue?.keys == ["s", "b", "i", "d", "a", "o", "n"])
    }

    @Test(arguments: [
        (JSON.null, "null"), (.bool(true), "boolean"), (.int(1), "integer"), (.double(1), "number"),
        (.string(""), "string"), (.array([]), "array"), (.object([:]), "object"),
        (.raw(RawJSON(trusted: Array(" {\"a\":1}".utf8))), "object"),
        (.raw(RawJSON(trusted: Array("-12".utf8))), "integer"),
        (.raw(RawJSON(trusted: Array("1e2".utf8))), "number"),
        (.raw(RawJSON(trusted: Array("\"s\"".utf8))), "string"),
    ])
    func typeNames(_ value: JSON, _ name: String) {
        #expect(value.typeName == name)
    }

    @Test func rawIsSplicedVerbatim() throws {
        let stored = Array(#"{"b" : [1, 2]}"#.utf8)
        let value: JSON = ["id": 7, "doc": .raw(RawJSON(trusted: stored))]
        #expect(value.jsonString == #"{"id":7,"doc":{"b" : [1, 2]}}"#)
        #expect(try JSON(parsing: value.serialized())["doc"]?["b"] == [1, 2])
        #expect(throws: JSONParseError.self) { try RawJSON(validating: Array("{".utf8)) }
        #expect(try RawJSON(validating: stored).bytes == stored)
    }

    @Test func writeAppends() {
        var buffer = Array("prefix:".utf8)
        JSON.array([1, "a", nil]).write(into: &buffer)
        #expect(String(decoding: buffer, as: UTF8.self) == #"prefix:[1,"a",null]"#)
        var ints: [UInt8] = []
        JSONWriter.writeInt(-305, into: &ints)
        JSONWriter.writeDouble(0.25, into: &ints)
        #expect(ints == Array("-3050.25".utf8))
    }
}

// MARK: - Randomized round trip

struct LCG {
    var state: UInt64
    init(seed: UInt64) { state = seed }
    mutating func next() -> UInt64 {
        state = state &* 6364136223846793005 &+ 1442695040888963407
        return state ^ (state >> 29)  // fold high bits into the weak low bits
    }
    mutating func below(_ n: Int) -> Int { Int(next() % UInt64(n)) }
}

private func randomString(_ rng: inout LCG) -> String {
    let pool: [Unicode.Scalar] = ["a", "Z", "0", " ", "\"", "\\", "/", "\n", "\u{0}", "\u{1F}", "\u{7F}", "é", "€", "\u{2028}", "😀", "\u{10FFFF}", "<"]
    var s = String.UnicodeScalarView()
    for _ in 0..<rng.below(12) {
        if rng.below(4) == 0 {
            s.append(pool[rng.below(pool.count)])
        } else if let u = Unicode.Scalar(UInt32(rng.below(0x11000))) {
            s.append(u)
        }
    }
    return String(s)
}

private func randomJSON(_ rng: inout LCG, depth: Int) -> JSON {
    let kind = depth >= 5 ? rng.below(5) : rng.below(7)
    switch kind {
    case 0: return .null
    case 1: return .bool(rng.below(2) == 0)
    case 2:
        switch rng.below(4) {
        case 0: return .int(Int.max - rng.below(3))
        case 1: return .int(Int.min + rng.below(3))
        default: return .int(Int(truncatingIfNeeded: rng.next()) >> rng.below(64))
        }
    case 3:
        var d: Double
        repeat { d = Double(bitPattern: rng.next() << 11 ^ rng.next()) } while !d.isFinite
        if rng.below(3) == 0 { d = Double(Int(truncatingIfNeeded: rng.next()) >> rng.below(64)) }  // integral
        return .double(d)
    case 4: return .string(randomString(&rng))
    case 5: return .array((0..<rng.below(6)).map { _ in randomJSON(&rng, depth: depth + 1) })
    default:
        var object = JSONObject()
        for _ in 0..<rng.below(16) { object[randomString(&rng)] = randomJSON(&rng, depth: depth + 1) }
        return .object(object)
    }
}

@Test func randomTreesRoundTrip() throws {
    var rng = LCG(seed: 0x6B_69_74_74)
    var totalBytes = 0
    for _ in 0..<500 {
        let value = randomJSON(&rng, depth: 0)
        let out = value.serialized()
        totalBytes += out.count
        let parsed = try JSON(parsing: out)
        #expect(parsed == value, "\(value.jsonString)")
        #expect(parsed.serialized() == out)
    }
    #expect(totalBytes > 10_000, "generator should produce non-trivial documents")
}
