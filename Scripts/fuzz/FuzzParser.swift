// libFuzzer harness for HTTPRequestParser. Built by Scripts/fuzz/build.sh into one module
// with the KittHTTP sources, so it can read internal state (scannedBytes).
//
// Input layout: byte 0 picks the feeding pattern and limits, the rest is the wire bytes.
//   bits 0-5: split size - 1 (1...64 bytes per append)
//   bit 6:    tiny limits (head 200, request line 60, body 100, 4 headers) to reach every limit path
//   bit 7:    vary the split size per append (a cheap xorshift seeded by byte 0)
// Invariants, each a trap that libFuzzer reports as a crash:
//   1. no trap or memory error anywhere (ASan);
//   2. fed all at once and fed in splits, the parser yields the same requests and the same error;
//   3. `.expectContinue` comes at most once per request and never after the error;
//   4. after an error, next() throws the same error again;
//   5. the LF search looks at each byte at most once (scannedBytes ≤ input size): no rescans.

@_cdecl("LLVMFuzzerTestOneInput")
public func fuzzHTTPRequestParser(_ data: UnsafePointer<UInt8>, _ size: Int) -> CInt {
    guard size > 0 else { return 0 }
    let control = data[0]
    let input = Array(UnsafeBufferPointer(start: data + 1, count: size - 1))
    let limits =
        control & 0x40 != 0
        ? HTTPLimits(maxHeadBytes: 200, maxRequestLineBytes: 60, maxBodyBytes: 100, maxHeaderCount: 4)
        : HTTPLimits()
    let whole = FuzzOutcome.run(input, limits: limits, splits: [input.count])
    let splits = fuzzSplits(control: control, count: input.count)
    let split = FuzzOutcome.run(input, limits: limits, splits: splits)
    if whole != split {
        fatalError("split feeding differs:\nwhole: \(whole)\nsplit: \(split)")
    }
    return 0
}

struct FuzzOutcome: Equatable, CustomStringConvertible {
    struct Request: Equatable {
        var method: String
        var target: String
        var version: HTTPVersion
        var headers: [HTTPHeaders.Field]
        var body: [UInt8]
    }
    var requests: [Request] = []
    var error: HTTPParseError?

    var description: String { "requests: \(requests.map { "\($0.method) \($0.target) \($0.body.count)B" }), error: \(String(describing: error))" }

    static func run(_ input: [UInt8], limits: HTTPLimits, splits: [Int]) -> FuzzOutcome {
        var parser = HTTPRequestParser(limits: limits)
        var outcome = FuzzOutcome()
        var offset = 0
        var splitIndex = 0
        var continuesForCurrent = 0
        feeding: while offset < input.count {
            let length = min(splits.isEmpty ? input.count : splits[splitIndex % splits.count], input.count - offset)
            splitIndex += 1
            input[offset..<offset + length].withUnsafeBytes { parser.append($0) }
            offset += length
            while true {
                do {
                    guard let event = try parser.next() else { break }
                    switch event {
                    case .expectContinue:
                        continuesForCurrent += 1
                        precondition(continuesForCurrent == 1, "two expectContinue for one request")
                    case .request(let request):
                        continuesForCurrent = 0
                        outcome.requests.append(
                            Request(
                                method: request.method.rawValue, target: request.target, version: request.version,
                                headers: Array(request.headers), body: request.body))
                    }
                } catch {
                    outcome.error = error
                    do {
                        _ = try parser.next()
                        preconditionFailure("next() after an error did not throw")
                    } catch let again {
                        precondition(again == error, "next() after an error threw a different error")
                    }
                    break feeding
                }
            }
        }
        precondition(parser.scannedBytes <= input.count, "LF search rescanned bytes: \(parser.scannedBytes) > \(input.count)")
        return outcome
    }
}
