/// How a service answers: once, from whichever store thread finished the work.
typealias Completion<T> = @Sendable (Result<T, any Error>) -> Void
