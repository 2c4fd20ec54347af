import Testing

@testable import KittHTTP

/// A request reduced to comparable parts.
struct ParsedRequest: Equatable, CustomStringConvertible {
    var method: String
    var target: String
    var version: HTTPVersion
    var headers: [HTTPHeaders.Field]
    var body: [UInt8]
    var request: HTTPRequest

    init(_ request: HTTPRequest) {
        method = request.method.rawValue
        target = request.target
        version = request.version
        headers = Array(request.headers)
        body = request.body
        self.request = request
    }

    static func == (a: ParsedRequest, b: ParsedRequest) -> Bool {
        a.method == b.method && a.target == b.target && a.version == b.version && a.headers == b.headers
            && a.body == b.body
    }

    var description: String { "\(method) \(target) \(version) \(headers.count) headers, \(body.count) body bytes" }
}

/// Everything one feeding of the parser produced.
struct ParseOutcome: CustomStringConvertible {
    var requests: [ParsedRequest] = []
    var error: HTTPParseError?
    /// For each `.expectContinue`, the index of the request it came before.
    var continues: [Int] = []

    /// Requests and error: what must not depend on how the input was split.
    func sameResult(as other: ParseOutcome) -> Bool { requests == other.requests && error == other.error }

    var description: String { "requests: \(requests), error: \(String(describing: error)), continues: \(continues)" }
}

/// Feeds `input` in pieces of `chunkSize` bytes, calling next() until nil after each append.
func parse(_ input: [UInt8], chunkSize: Int = .max, limits: HTTPLimits = HTTPLimits()) -> ParseOutcome {
    var parser = HTTPRequestParser(limits: limits)
    return parse(input, chunkSize: chunkSize, with: &parser)
}

func parse(_ input: [UInt8], chunkSize: Int = .max, with parser: inout HTTPRequestParser) -> ParseOutcome {
    var outcome = ParseOutcome()
    var offset = 0
    while offset < input.count {
        let end = offset + min(chunkSize, input.count - offset)
        parser.append(Array(input[offset..<end]))
        offset = end
        do {
            while let event = try parser.next() {
                switch event {
                case .expectContinue: outcome.continues.append(outcome.requests.count)
                case .request(let request): outcome.requests.append(ParsedRequest(request))
                }
            }
        } catch {
            outcome.error = error
            return outcome
        }
    }
    return outcome
}

func bytes(_ text: String) -> [UInt8] { Array(text.utf8) }

/// The error a hostile row expects. For 400 and 501 the message must contain `text`.
enum ExpectedError: Sendable, CustomStringConvertible {
    case badRequest(String)
    case unsupportedTransferCoding(String)
    case exactly(HTTPParseError)

    func matches(_ error: HTTPParseError?) -> Bool {
        switch (self, error) {
        case (.badRequest(let text), .badRequest(let message)?): message.contains(text)
        case (.unsupportedTransferCoding(let text), .unsupportedTransferCoding(let message)?): message.contains(text)
        case (.exactly(let expected), let actual?): expected == actual
        default: false
        }
    }

    var description: String {
        switch self {
        case .badRequest(let text): "400 containing '\(text)'"
        case .unsupportedTransferCoding(let text): "501 containing '\(text)'"
        case .exactly(let error): "\(error)"
        }
    }
}
