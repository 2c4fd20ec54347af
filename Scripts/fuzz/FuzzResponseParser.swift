// libFuzzer harness for HTTPResponseParser (the client side). Built by Scripts/fuzz/build.sh
// into one module with the KittHTTP sources, so it can read internal state (scannedBytes).
//
// Input layout: byte 0 picks the feeding pattern and limits, the rest is the wire bytes.
//   bits 0-5: split size - 1 (1...64 bytes per append)
//   bit 6:    tiny limits (body 100, head 64) to reach every tooLarge path
//   bit 7:    vary the split size per append (a cheap xorshift seeded by byte 0)
// Invariants, each a trap that libFuzzer reports as a crash:
//   1. no trap or memory error anywhere (ASan);
//   2. fed all at once and fed in splits: the same response (status, headers, body, bytes
//      after it) or the same error, both before and after the peer closes;
//   3. after an error, append and complete throw the same error again;
//   4. each byte is looked at once: scannedBytes ≤ input size (no rescans).

@_cdecl("LLVMFuzzerTestOneInput")
public func fuzzHTTPResponseParser(_ data: UnsafePointer<UInt8>, _ size: Int) -> CInt {
    guard size > 0 else { return 0 }
    let control = data[0]
    let input = Array(UnsafeBufferPointer(start: data + 1, count: size - 1))
    let tiny = control & 0x40 != 0
    let splits = fuzzSplits(control: control, count: input.count)
    let whole = FuzzResponse.run(input, tiny: tiny, splits: [max(1, input.count)])
    let split = FuzzResponse.run(input, tiny: tiny, splits: splits)
    if whole != split {
        fatalError("split feeding differs:\nwhole: \(whole)\nsplit: \(split)")
    }
    return 0
}

struct FuzzResponse: Equatable, CustomStringConvertible {
    struct Outcome: Equatable {
        var status: Int?
        var headers: [HTTPHeaders.Field] = []
        var body: [UInt8] = []
        var after: [UInt8] = []
        var error: HTTPResponseParser.Failure?
    }
    var open = Outcome()
    var closed = Outcome()

    var description: String { "open: \(open.status as Any) \(open.body.count)B \(open.error as Any); closed: \(closed.status as Any) \(closed.body.count)B \(closed.error as Any)" }

    static func run(_ input: [UInt8], tiny: Bool, splits: [Int]) -> FuzzResponse {
        var parser = tiny ? HTTPResponseParser(maxBytes: 100, maxHeadBytes: 64) : HTTPResponseParser()
        var result = FuzzResponse()
        var offset = 0
        var piece = 0
        var failed: HTTPResponseParser.Failure?
        while offset < input.count {
            let length = min(splits[piece % splits.count], input.count - offset)
            piece += 1
            do throws(HTTPResponseParser.Failure) {
                try parser.append(Array(input[offset..<offset + length]))
            } catch {
                failed = error
                break
            }
            offset += length
        }
        if let failed {
            // An error is sticky.
            do throws(HTTPResponseParser.Failure) {
                try parser.append([0x41])
                fatalError("append after \(failed) succeeded")
            } catch {
                precondition(error == failed, "append after \(failed) threw \(error)")
            }
        }
        precondition(parser.scannedBytes <= input.count, "scanned \(parser.scannedBytes) of \(input.count) bytes")
        result.open = outcome(parser, peerClosed: false)
        result.closed = outcome(parser, peerClosed: true)
        if let failed { precondition(result.open.error == failed && result.closed.error == failed) }
        return result
    }

    static func outcome(_ parser: HTTPResponseParser, peerClosed: Bool) -> Outcome {
        var outcome = Outcome()
        do throws(HTTPResponseParser.Failure) {
            if let response = try parser.complete(peerClosed: peerClosed) {
                outcome.status = response.status
                outcome.headers = Array(response.headers)
                outcome.body = response.body
                outcome.after = parser.bytesAfterResponse
            }
        } catch {
            outcome.error = error
        }
        return outcome
    }
}
