import KittHTTP
import KittJSON
import KittNet

/// One non-streaming completion as the benchmark sees it.
public struct CompletionSample: Sendable, Equatable {
    public var latency: Double
    public var outputTokens: Int
    public init(latency: Double, outputTokens: Int) {
        self.latency = latency
        self.outputTokens = outputTokens
    }
}

/// One streamed completion: time to the first token and to the end.
public struct StreamSample: Sendable, Equatable {
    public var timeToFirstToken: Double
    public var latency: Double
    public var outputTokens: Int
    public init(timeToFirstToken: Double, latency: Double, outputTokens: Int) {
        self.timeToFirstToken = timeToFirstToken
        self.latency = latency
        self.outputTokens = outputTokens
    }
}

/// What the benchmarks need from an inference engine (a fake in unit tests).
public protocol InferenceEngine: Sendable {
    func complete(model: String, prompt: String, maxTokens: Int) throws(EngineError) -> CompletionSample
    func stream(model: String, prompt: String, maxTokens: Int) throws(EngineError) -> StreamSample
}

/// An OpenAI-compatible server (vLLM, llama.cpp's server, Ollama): `/v1/completions`, and
/// `/v1/chat/completions` for streaming when the former is missing.
public struct OpenAIEngine: InferenceEngine {
    public let baseURL: String
    public let timeout: Double
    private let client: HTTPClient
    private let tls: TLSContext?

    /// `baseURL` without `/v1` (`http://127.0.0.1:8000`); a trailing `/v1` is tolerated.
    public init(baseURL: String, timeout: Double) {
        var base = baseURL
        while base.hasSuffix("/") { base.removeLast() }
        if base.hasSuffix("/v1") { base.removeLast(3) }
        self.baseURL = base
        self.timeout = timeout
        client = HTTPClient(connectTimeout: min(5, timeout), readTimeout: timeout, maxResponseBytes: 8 << 20)
        tls = base.hasPrefix("https://") ? (try? TLSContext.client(caFile: nil)) : nil
    }

    public func complete(model: String, prompt: String, maxTokens: Int) throws(EngineError) -> CompletionSample {
        let body = JSON.object(
            JSONObject([
                ("model", .string(model)), ("prompt", .string(prompt)), ("max_tokens", .int(maxTokens)),
                ("temperature", 0), ("stream", false),
            ]))
        let start = Clock.now()
        let response: HTTPResponseParser.ParsedResponse
        do {
            response = try client.send(
                method: "POST", url: baseURL + "/v1/completions", headers: [("Content-Type", "application/json")],
                body: body.serialized())
        } catch {
            throw EngineError("engine request failed: \(error)")
        }
        let latency = Clock.now() - start
        guard response.status == 200 else {
            throw EngineError("engine answered HTTP \(response.status): \(OpenAIEngine.errorText(response.body))")
        }
        guard let json = try? JSON(parsing: response.body), json.objectValue != nil else {
            throw EngineError("engine answered with something that is not a JSON object")
        }
        if let tokens = json["usage"]?["completion_tokens"]?.intValue {
            return CompletionSample(latency: latency, outputTokens: tokens)
        }
        // No usage block: count the words of the text (a rough stand-in, better than zero).
        let text = json["choices"]?.arrayValue?.first?["text"]?.stringValue ?? ""
        return CompletionSample(latency: latency, outputTokens: text.split(separator: " ").count)
    }

    public func stream(model: String, prompt: String, maxTokens: Int) throws(EngineError) -> StreamSample {
        let completions = JSON.object(
            JSONObject([
                ("model", .string(model)), ("prompt", .string(prompt)), ("max_tokens", .int(maxTokens)),
                ("temperature", 0), ("stream", true),
            ]))
        if let sample = try streamOnce(path: "/v1/completions", body: completions) { return sample }
        let chat = JSON.object(
            JSONObject([
                ("model", .string(model)),
                ("messages", [.object(JSONObject([("role", "user"), ("content", .string(prompt))]))]),
                ("max_tokens", .int(maxTokens)), ("temperature", 0), ("stream", true),
            ]))
        if let sample = try streamOnce(path: "/v1/chat/completions", body: chat) { return sample }
        throw EngineError("engine has neither /v1/completions nor /v1/chat/completions (HTTP 404)")
    }

    /// One streaming request; nil on a 404 (so the caller can try chat).
    private func streamOnce(path: String, body: JSON) throws(EngineError) -> StreamSample? {
        let url: URLParts
        do { url = try URLParts(parsing: baseURL + path) } catch { throw EngineError("bad engine URL: \(error)") }
        let payload = body.serialized()
        let head =
            "POST \(url.pathAndQuery) HTTP/1.1\r\nHost: \(url.hostHeader)\r\nUser-Agent: kitt-agent\r\n"
            + "Content-Type: application/json\r\nAccept: text/event-stream\r\n"
            + "Content-Length: \(payload.count)\r\nConnection: close\r\n\r\n"

        let start = Clock.now()
        let connection = try EngineConnection(
            url: url, tlsContext: tls, connectTimeout: min(5, timeout), timeout: timeout)
        try connection.writeAll(Array(head.utf8) + payload)

        var parser = HTTPResponseParser(maxBytes: 16 << 20)
        var buffer = [UInt8](repeating: 0, count: 16 * 1024)
        var status: Int?
        var lines = SSEDataLines()
        var firstToken: Double?
        var pieces = 0
        var reportedTokens: Int?
        var finished = false
        var errorBody: [UInt8] = []

        while !finished {
            guard let count = try connection.read(into: &buffer) else { break }
            do {
                try parser.append(Array(buffer[0..<count]))
                guard let head = try parser.parsedHead() else { continue }
                if status == nil { status = head.status }
            } catch {
                throw EngineError("engine sent a malformed response: \(error)")
            }
            // The parser de-chunks; what it holds is taken at once, so a long stream stays small.
            let decoded = parser.takeBody()
            if parser.isBodyComplete { finished = true }
            guard status == 200 else {
                if errorBody.count < 4096 { errorBody.append(contentsOf: decoded.prefix(4096 - errorBody.count)) }
                continue
            }
            for data in lines.feed(decoded) {
                if data == "[DONE]" {
                    finished = true
                    break
                }
                guard let event = try? JSON(parsing: data) else { continue }
                if let tokens = event["usage"]?["completion_tokens"]?.intValue { reportedTokens = tokens }
                let choice = event["choices"]?.arrayValue?.first
                let text = choice?["text"]?.stringValue ?? choice?["delta"]?["content"]?.stringValue ?? ""
                if !text.isEmpty {
                    pieces += 1
                    if firstToken == nil { firstToken = Clock.now() - start }
                }
            }
        }
        let end = Clock.now()
        guard let status else { throw EngineError("engine closed the connection without a response") }
        if status == 404 { return nil }
        guard status == 200 else {
            throw EngineError("engine answered HTTP \(status): \(OpenAIEngine.errorText(errorBody))")
        }
        guard let firstToken else { throw EngineError("engine streamed no tokens") }
        return StreamSample(timeToFirstToken: firstToken, latency: end - start, outputTokens: reportedTokens ?? pieces)
    }

    /// The engine's error message (`{"error": {"message"}}` / `{"error": "..."}` / `{"detail"}`) or
    /// the start of the body; one line.
    static func errorText(_ body: [UInt8]) -> String {
        if let json = try? JSON(parsing: body) {
            if let message = json["error"]?["message"]?.stringValue ?? json["error"]?.stringValue
                ?? json["detail"]?.stringValue ?? json["message"]?.stringValue
            {
                return String(message.prefix(300))
            }
        }
        let text = String(decoding: body.prefix(300), as: UTF8.self)
        return text.split(whereSeparator: { $0 == "\n" || $0 == "\r" }).joined(separator: " ")
    }
}
