import KittHTTP
import KittJSON
import KittSQLite
import KittStore
import KittTestSupport
import Testing

@testable import KittAPI

/// A stored document that carries its own `"id"` (stored before kitt refused one, or brought
/// from elsewhere) is served with kitt's id only: in the API and on the legacy dashboard.
@Suite struct StoredDocumentIDTests {
    @Test(arguments: [
        #"{"id":"attacker","model":"m","engine":"e"}"#,
        #"{"model":"m","engine":"e","id":"attacker"}"#,
        #"{"model":"m","\u0069d":"attacker","engine":"e"}"#,
        #"{"id":1,"model":"m","engine":"e","id":2}"#,
    ])
    func ownID_isNeverServedTwice(stored: String) throws {
        let harness = try APIHarness()
        let id = try harness.store.results.insert(try ResultDocument(bytes: Array(#"{"model":"m","engine":"e"}"#.utf8)))
        try harness.store.database.write { connection in
            _ = try connection.run("UPDATE runs SET document = ? WHERE id = ?", [.text(stored), .text(id)])
        }
        let legacy = LegacyRoutes.makeRouter(context: harness.context)
        let served: [(String, TestResponse)] = [
            ("one", harness.call(.get, "/api/v1/results/\(id)")),
            ("list", harness.call(.get, "/api/v1/results/?per_page=5")),
            ("compare", harness.call(.post, "/api/v1/results/compare", json: ["ids": [.string(id)]], token: harness.token)),
            ("legacy list", ModelsRig.call(legacy, .get, "/api/results")),
            ("legacy one", ModelsRig.call(legacy, .get, "/api/results/0")),
        ]
        for (name, response) in served {
            #expect(response.status == 200, "\(name): \(response)")
            // Strict parse: a key twice anywhere fails it.
            let json = try JSON(parsing: response.body, uniqueKeys: true)
            let object = json.objectValue?["items"]?.arrayValue?.first ?? json.arrayValue?.first ?? json
            #expect(object["id"]?.stringValue == id, "\(name): \(response)")
            #expect(object["model"]?.stringValue == "m", "\(name): \(response)")
            #expect(!response.text.contains("attacker"), "\(name): \(response)")
        }
    }
}
