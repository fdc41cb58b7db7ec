extension RowBatch {
    /// Appends column `source` of `row` in `batch` (its value, NULL or unchanged marker) to `column` of this batch.
    /// Both columns must have the same type.
    public mutating func appendValue(from batch: RowBatch, row: Int, column source: Int, to column: Int) {
        copyValue(from: batch, row: row, column: source, to: column)
    }

    /// Rows of this batch whose key equals the key of `row` in `other` (a batch with the same columns), newest first.
    public func rows(withKeyOf other: RowBatch, row: Int, keys: [Int]) -> [Int] {
        guard count > 0 else { return [] }
        return (0..<count).reversed().filter { RowBatch.compareKeys(self, $0, other, row, keys) == 0 }
    }
}
