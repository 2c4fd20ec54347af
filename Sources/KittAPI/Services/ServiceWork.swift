import KittStore

/// How a service answers: once, from whichever store thread finished the work.
typealias Completion<T> = @Sendable (Result<T, any Error>) -> Void

extension Store {
    /// Runs synchronous store work on the store's worker pool (never an event loop, never the
    /// cooperative pool) and hands its outcome to `completion`. Debug builds trap if the work
    /// ever reaches SQLite on a loop thread (`Database.read`/`write` assert it), so a service
    /// method that forgot to come through here fails every test that calls it.
    func perform<T: Sendable>(_ work: @escaping @Sendable () throws -> T, completion: @escaping Completion<T>) {
        workers.submit { completion(Result { try work() }) }
    }
}
