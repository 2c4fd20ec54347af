import KittHTTP
import KittStore

extension HTTPResponse {
    /// Starts asynchronous service or store work (a write answers once it has committed) and
    /// answers when it is done: `respond` builds the response from its value; the agent store's
    /// errors become 404/403/400, an HTTPError is answered as it is, anything else a 500.
    static func committed<T: Sendable>(
        _ start: @escaping @Sendable (@escaping @Sendable (Result<T, any Error>) -> Void) -> Void,
        respond: @escaping @Sendable (T) throws -> HTTPResponse
    ) -> HTTPResponse {
        .deferred { promise in
            start { result in
                do {
                    promise.succeed(try respond(result.get()))
                } catch AgentStoreError.notFound {
                    promise.fail(HTTPError.notFound("agent not found"))
                } catch AgentStoreError.forbidden {
                    promise.fail(HTTPError.forbidden("this token belongs to another agent (or the name is another agent's)"))
                } catch AgentStoreError.unknownWork(let field, let value) {
                    promise.fail(HTTPError.notFound("\(field) '\(value)' is not a quick test or command of this agent"))
                } catch AgentStoreError.nameIsAnID {
                    promise.fail(HTTPError.badRequest("'name' is another agent's id"))
                } catch AgentStoreError.tooManyEngines {
                    promise.fail(HTTPError.badRequest("'engines': an agent keeps at most \(AgentHeartbeat.maxEngines) engines"))
                } catch {
                    promise.fail(error)
                }
            }
        }
    }
}
