extension RowBatch {
    /// Collapses rows that share key and `_version` (several changes of one key inside one transaction) into the last
    /// of them, taking each of its unchanged (TOAST) columns from the nearest earlier row of the run that has a value
    /// (never across a tombstone; without one the marker stays, for an older version to fill). `self` must be sorted
    /// by (key, version, arrival), as `sorted(keys:)` leaves it. Returns `self` when no two rows share (key, version),
    /// so a part never holds two rows with the same (key, version) and every reader — FINAL, merges, DuckDB,
    /// ClickHouse — sees the same winner without a tie-break.
    func collapsingEqualVersions(keys: [Int]) -> RowBatch {
        guard count > 1 else { return self }
        var hasDuplicates = false
        for r in 1..<count where versions[r] == versions[r - 1] && RowBatch.compareKeys(self, r, self, r - 1, keys) == 0 {
            hasDuplicates = true
            break
        }
        guard hasDuplicates else { return self }
        var out = RowBatch(columns: columns)
        out.reserveCapacity(count)
        var start = 0
        while start < count {
            var end = start + 1
            while end < count && versions[end] == versions[start] && RowBatch.compareKeys(self, end, self, start, keys) == 0 {
                end += 1
            }
            let last = end - 1
            if end - start == 1 || deleted[last] || !buffers.contains(where: { $0.unchanged[last] }) {
                out.appendRow(from: self, row: last)
            } else {
                for c in 0..<columns.count {
                    var source = last
                    if buffers[c].unchanged[last] {
                        var i = last - 1
                        while i >= start && !deleted[i] {
                            if !buffers[c].unchanged[i] { source = i; break }
                            i -= 1
                        }
                    }
                    out.copyValue(from: self, row: source, column: c, to: c)
                }
                out.finishCopiedRow(version: versions[last], deleted: false)
            }
            start = end
        }
        return out
    }
}
