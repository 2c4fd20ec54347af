import KittJSON

/// Posts test status, log lines and results. Status and results must arrive (a campaign waits
/// for them), so they are retried through server restarts and network errors: 0.5 s doubling to
/// 10 s, for up to 10 minutes (15 s once the agent is stopping). A 4xx is final. Log lines are
/// best effort: one try.
struct Reporter {
    let agent: Agent

    static let retryBudget = 600.0
    static let stoppingBudget = 15.0
    /// The server's limits (SPEC §7.2): a longer error or line would be refused with a 400.
    static let maxErrorBytes = 4096
    static let maxLineBytes = 16 * 1024

    /// `text` cut to at most `bytes` of UTF-8, on a character boundary.
    static func clip(_ text: String, bytes: Int) -> String {
        guard text.utf8.count > bytes else { return text }
        var out = ""
        var used = 0
        for character in text {
            let size = character.utf8.count
            if used + size > bytes { break }
            out.append(character)
            used += size
        }
        return out
    }

    func status(testID: String, _ status: String, error: String? = nil) {
        var body = JSONObject([("status", .string(status))])
        if let error { body["error"] = .string(Reporter.clip(error, bytes: Reporter.maxErrorBytes)) }
        deliver("/quicktest/\(pathSegment(testID))/status", .object(body), what: "status \(status) of test \(testID)")
    }

    func logLine(testID: String?, _ line: String) {
        agent.log(line)
        guard let testID else { return }
        do {
            let reply = try agent.server.post(
                "/quicktest/\(pathSegment(testID))/logs",
                .object(JSONObject([("line", .string(Reporter.clip(line, bytes: Reporter.maxLineBytes)))])))
            if !(200..<300).contains(reply.status) { agent.log("log line refused: \(reply.errorText)") }
        } catch {
            agent.log("log line not sent: \(error)")
        }
    }

    /// POST /agents/<id>/results: a status report, with `result_data` when there is a result.
    @discardableResult
    func report(
        command: AgentCommandItem, status: String, error: String?, resultData: JSON?, extra: [(String, JSON)] = []
    ) -> ServerReply? {
        var body = JSONObject([("command_id", .string(command.id)), ("status", .string(status))])
        if let testID = command.testID { body["test_id"] = .string(testID) }
        if let error { body["error"] = .string(Reporter.clip(error, bytes: Reporter.maxErrorBytes)) }
        for (key, value) in extra { body[key] = value }
        if let resultData { body["result_data"] = resultData }
        let id = agent.agentID ?? agent.config.name
        return deliver(
            "/agents/\(pathSegment(id))/results", .object(body), what: "\(command.type) report \(command.id)")
    }

    @discardableResult
    func deliver(_ path: String, _ body: JSON, what: String) -> ServerReply? {
        let start = Clock.now()
        var delay = 0.5
        while true {
            do {
                let reply = try agent.server.post(path, body)
                if (200..<300).contains(reply.status) { return reply }
                if reply.status < 500 {
                    agent.log("\(what): refused by the server: \(reply.errorText)")
                    return reply
                }
                agent.log("\(what): server error \(reply.errorText); retrying")
            } catch {
                agent.log("\(what): \(error); retrying")
            }
            let budget = agent.isStopping ? Reporter.stoppingBudget : Reporter.retryBudget
            if Clock.now() - start + delay > budget {
                agent.log("\(what): giving up after \(Int(Clock.now() - start)) s")
                return nil
            }
            Clock.sleep(delay)
            delay = min(delay * 2, 10)
        }
    }
}
