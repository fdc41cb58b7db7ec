extension RowBatch {
    /// Sets `_version` of the rows from `start` to the end of the batch. The replicator appends a transaction's rows
    /// before its Commit (which carries the version) arrives, then stamps them.
    public mutating func setVersions(_ version: UInt64, from start: Int) {
        precondition(start >= 0 && start <= versions.count, "row \(start) out of range")
        for i in start..<versions.count { versions[i] = version }
    }
}
