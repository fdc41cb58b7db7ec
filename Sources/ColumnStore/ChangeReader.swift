import Foundation

/// Reads what changed in a table above a version: for every key whose newest committed version is above `after`,
/// that version — a row with its unchanged (TOAST) columns filled from older versions, or a tombstone (key columns
/// only, `isDeleted`). Versions of a key at or below `after` are not returned; versions in between are collapsed
/// into the newest (a consumer that applies "higher version wins", such as ClickHouse's ReplacingMergeTree, ends up
/// in the same state).
///
/// It merges a manifest snapshot's parts like `FinalReader` (one row group per part in memory). Only partitions
/// holding a part above `after` are read when the partitioning is derived from the key; otherwise every part.
public struct ChangeReader {
    /// The reader columns (the union of schema versions), in manifest order.
    public let columns: [ColumnDefinition]
    /// The manifest snapshot being read.
    public let manifest: Manifest
    /// The highest version in the snapshot: after reading everything, the table is known up to here.
    public let upToVersion: UInt64
    /// Rows the parts above `after` hold (an upper bound of the changed keys).
    public let pendingRows: Int
    private var merge: KeyMerge?
    private let after: UInt64
    private let batchRows: Int
    /// Unchanged columns that had no older value (returned as NULL; should stay 0).
    public var unresolvedUnchanged: Int { merge?.unresolved ?? 0 }

    init(store: Store, table: String, after: UInt64, batchRows: Int) throws {
        let m = try store.manifest(table)
        manifest = m
        columns = m.readerColumns
        self.after = after
        self.batchRows = batchRows
        upToVersion = m.parts.map(\.maxVersion).max() ?? 0
        let newer = m.parts.filter { $0.maxVersion > after }
        pendingRows = newer.reduce(0) { $0 + $1.rows }
        guard !newer.isEmpty else { merge = nil; return }
        var parts = m.parts
        if m.partitioning.isDerivedFromKey(m.keyColumns) {
            let touched = Set(newer.map(\.partition))
            parts = parts.filter { touched.contains($0.partition) }
        }
        let dir = store.tableDirectory(table)
        let order = m.partOrder
        let target = columns
        let cursors = try parts.map {
            try PartCursor(table: table, tableDirectory: dir, entry: $0, order: order[$0.path] ?? 0,
                           target: target, verifyChecksum: store.options.verifyChecksums)
        }
        merge = try KeyMerge(cursors: cursors, keys: TableSchema(columns: columns, keyColumns: m.keyColumns).keyIndexes)
    }

    /// The next changed rows (at most the batch size; tombstones flagged by `isDeleted`), or nil at the end.
    public mutating func next() throws -> RowBatch? {
        guard var merge else { return nil }
        defer { self.merge = merge }
        var out = RowBatch(columns: columns)
        while out.count < batchRows {
            guard try merge.nextKey() else { self.merge = nil; return out.count == 0 ? nil : out }
            guard let last = merge.group.last, last.batch.versions[last.row] > after else { continue }
            _ = merge.resolve(into: &out, keepTombstones: true, keepMarkers: false)
        }
        return out
    }
}

extension Store {
    /// A reader of the keys of `table` whose newest version is above `after` (see `ChangeReader`).
    public func changes(_ table: String, after: UInt64, batchRows: Int = 8192) throws -> ChangeReader {
        try ChangeReader(store: self, table: table, after: after, batchRows: batchRows)
    }
}
