/// How many rows a store copy moves per round trip: as many as fit in about `targetBytes`
/// going by the largest row seen so far in the table, so memory stays bounded whether
/// rows are 50-byte metrics or 8 MB result documents. Starts small (the first rows of a
/// table are unknown) and never passes what one INSERT may bind on either side
/// (SQLite: 32,766 variables; PostgreSQL: 65,535 parameters).
struct CopyBatch {
    static let targetBytes = 4 << 20
    static let firstRows = 16
    static let maxRows = 500
    static let maxBoundValues = 30_000

    private let columns: Int
    private var largestRow = 0
    private(set) var rows: Int

    init(columns: Int) {
        self.columns = max(1, columns)
        rows = max(1, min(CopyBatch.firstRows, CopyBatch.maxBoundValues / self.columns))
    }

    /// Sizes the next batch after one whose rows were `rowBytes` long.
    mutating func observe(_ rowBytes: some Sequence<Int>) {
        largestRow = max(largestRow, rowBytes.max() ?? 0)
        let fitting = CopyBatch.targetBytes / max(1, largestRow)
        rows = max(1, min(fitting, CopyBatch.maxRows, CopyBatch.maxBoundValues / columns))
    }
}
