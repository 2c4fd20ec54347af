import Foundation
import KittTestSupport
import Testing

/// `kitt agent` as an operator sees it (issue 12): it says when it reconnects, gives up with
/// exit 1 on a refused token, and names `--ca` when the server's certificate is not trusted.
@Suite(.serialized) struct AgentOperationsTests {

    @Test func wrongToken_stopsWithExit1AndSaysWhy() throws {
        let server = try E2E.server()
        defer { server.stop() }
        let home = TempDirectory("kitt-agent-ops")
        let agent = try AgentProcess(
            arguments: [
                "--server", "https://localhost:\(server.port)", "--token", "not-the-token", "--name", "ops-agent",
                "--ca", try #require(server.caFile),
            ], home: home.path)
        try waitFor("the agent to exit", timeout: 20) { !agent.process.isRunning }
        #expect(agent.process.terminationStatus == 1, "\(agent.log)")
        #expect(agent.log.contains("refused this agent's token on register (HTTP 403"), "\(agent.log)")
        #expect(agent.log.contains("--token"), "\(agent.log)")
        // It tried once, not in a loop.
        #expect(agent.log.components(separatedBy: "refused this agent's token").count <= 3, "\(agent.log)")
    }

    @Test func untrustedCertificate_suggestsCA() throws {
        let server = try E2E.server()
        defer { server.stop() }
        let home = TempDirectory("kitt-agent-ops")
        let agent = try AgentProcess(
            arguments: ["--server", "https://localhost:\(server.port)", "--token", TestServer.defaultToken, "--name", "ops-agent"],
            home: home.path)
        defer { _ = agent.terminate() }
        try waitFor("a register failure", timeout: 20) { agent.log.contains("register failed") }
        #expect(agent.log.contains("pass its CA with --ca FILE"), "\(agent.log)")
    }

    @Test func serverComingBack_isLoggedAsReconnected() throws {
        let data = TempDirectory("kitt-agent-ops-data")
        var server = try TestServer.start(directory: data)
        defer { server.stop() }
        let port = server.port
        let caFile = try #require(server.caFile)
        let home = TempDirectory("kitt-agent-ops")
        let agent = try AgentProcess(
            arguments: [
                "--server", "https://localhost:\(port)", "--token", TestServer.defaultToken, "--name", "ops-agent",
                "--ca", caFile, "--heartbeat-interval", "0.2",
            ], home: home.path)
        defer { _ = agent.terminate() }
        try waitFor("the agent to register", timeout: 20) { agent.log.contains("registered as 'ops-agent'") }
        server.stop()
        try waitFor("a heartbeat failure", timeout: 20) { agent.log.contains("heartbeat failed") }
        #expect(!agent.log.contains("reconnected"))
        server = try TestServer.start(directory: data) { $0.port = port }
        try waitFor("the reconnect line", timeout: 30) { agent.log.contains("reconnected to https://localhost:\(port)") }
        #expect(agent.terminate() == 0)
    }
}
