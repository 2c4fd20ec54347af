import Foundation
import KittTestSupport
import Testing

/// `maxConnections`: connections past the limit are closed at accept; the others keep working.
/// (One address may hold at most half of them — FairConnectionTests — so the five come from
/// five loopback addresses.)
@Suite(.serialized) struct ConnectionLimitTests {
    @Test func sixthConnection_isRefusedWhileFiveWork() throws {
        let server = try E2E.server { $0.maxConnections = 5 }
        defer { server.stop() }
        var clients: [RawClient] = []
        for i in 0..<5 {
            let client = try server.connect(source: "127.0.0.\(10 + i)")
            try client.send(E2E.get("/api/v1/health"))
            #expect(try client.readResponse().status == 200)
            clients.append(client)
        }
        #expect(server.app.connectionCount == 5)
        #expect(throws: RawClient.Failure.self) { _ = try server.connect(source: "127.0.0.20") }
        let plain = try E2E.tcp(server)
        #expect(try plain.readUntilClose(timeout: 3).isEmpty)
        for client in clients {
            try client.send(E2E.get("/api/v1/version"))
            #expect(try client.readResponse().status == 200)
        }
        // Closing one frees a slot.
        clients.removeLast()
        #expect(E2E.eventually { server.app.connectionCount == 4 })
        let again = try server.connect()
        try again.send(E2E.get("/api/v1/health"))
        #expect(try again.readResponse().status == 200)
    }
}
