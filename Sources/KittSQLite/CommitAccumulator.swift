/// Work a write transaction saves for just before its COMMIT: summary rows that many writes
/// of one group-commit batch add to (running totals, counts) are written once per batch
/// instead of once per write.
///
/// A write body gets the transaction's accumulator of a type with
/// `connection.accumulator(MyTotals.self)` and adds to it. Inside a `writeAsync` batch each
/// body has its own accumulators: a body that succeeds hands them to the batch (`absorb`), a
/// body that throws (its savepoint rolled back) drops them. Before COMMIT the writer calls
/// `flush` on each, in the order they were first used; if a flush throws, the whole
/// transaction rolls back.
public protocol CommitAccumulator: AnyObject {
    init()
    /// Adds what a later body of the same transaction accumulated (always of `Self`'s type).
    func absorb(_ other: any CommitAccumulator)
    /// Writes what was accumulated, inside the transaction, on the writer.
    func flush(into connection: Connection) throws
    /// Called on the writer after the transaction committed (counters for metrics). Optional.
    func didCommit()
}

extension CommitAccumulator {
    public func didCommit() {}
}

/// The accumulators of one transaction or one savepoint scope, in order of first use.
struct AccumulatorScope {
    private(set) var items: [(key: ObjectIdentifier, value: any CommitAccumulator)] = []

    func find(_ key: ObjectIdentifier) -> (any CommitAccumulator)? {
        items.first { $0.key == key }?.value
    }

    mutating func add(_ key: ObjectIdentifier, _ value: any CommitAccumulator) {
        items.append((key, value))
    }

    /// Merges `inner` (a finished body's scope) into this one.
    mutating func absorb(_ inner: AccumulatorScope) {
        for (key, value) in inner.items {
            if let mine = find(key) { mine.absorb(value) } else { add(key, value) }
        }
    }
}
