import Foundation

/// Reads every row version of a table above a version, part by part and row group by row group, without merging
/// keys: the cheap way to ship changes to a consumer that keeps the highest version per key itself (ClickHouse's
/// ReplacingMergeTree). A key changed several times above `after` comes once per version, and a tombstone comes as a
/// row of its own (`isDeleted`).
///
/// A row group whose rows all lie above `after` is handed out as read (no copy); others are filtered. Unchanged
/// (TOAST) markers are not resolved here: `sawUnchanged` turns true at the first batch that holds one, and that
/// batch is not returned (the caller reads the rest with `ChangeReader`, which resolves them).
public struct VersionScan {
    /// The reader columns (the union of schema versions), in manifest order.
    public let columns: [ColumnDefinition]
    /// The manifest snapshot being read.
    public let manifest: Manifest
    /// The highest version in the snapshot: after reading everything, the table is known up to here.
    public let upToVersion: UInt64
    /// Rows the parts above `after` hold.
    public let pendingRows: Int
    /// True once a batch with an unchanged marker was met (the scan then returns nil).
    public private(set) var sawUnchanged = false
    /// Every part above `after`, opened at the start (an open file stays readable should a merge remove the part).
    private var cursors: [PartCursor]
    private var cursor: PartCursor?
    private let after: UInt64

    init(store: Store, table: String, after: UInt64) throws {
        let m = try store.manifest(table)
        manifest = m
        columns = m.readerColumns
        self.after = after
        upToVersion = m.parts.map(\.maxVersion).max() ?? 0
        let parts = m.parts.filter { $0.maxVersion > after }
        pendingRows = parts.reduce(0) { $0 + $1.rows }
        let dir = store.tableDirectory(table)
        let target = columns
        cursors = try parts.map {
            try PartCursor(table: table, tableDirectory: dir, entry: $0, order: 0, target: target,
                           verifyChecksum: store.options.verifyChecksums)
        }
        cursors.reverse()   // taken from the end
    }

    /// The next row group's rows above `after` (never empty), or nil at the end (or at an unchanged marker).
    public mutating func next() throws -> RowBatch? {
        while !sawUnchanged {
            if cursor == nil {
                guard let next = cursors.popLast() else { return nil }
                cursor = next
            }
            guard try cursor!.loadNext() else { cursor = nil; continue }
            var batch = cursor!.batch
            if cursor!.entry.minVersion <= after {
                let rows = batch.versions.indices.filter { batch.versions[$0] > after }
                if rows.isEmpty { continue }
                if rows.count < batch.count { batch = batch.gathered(rows) }
            }
            if batch.hasUnchanged { sawUnchanged = true; return nil }
            return batch
        }
        return nil
    }
}

extension Store {
    /// Every row version of `table` above `after`, unmerged (see `VersionScan`).
    public func versions(_ table: String, after: UInt64) throws -> VersionScan {
        try VersionScan(store: self, table: table, after: after)
    }
}
