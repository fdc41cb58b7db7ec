import Foundation

/// Reads what changed in a table above a version: for every key whose newest committed version is above `after`,
/// that version — a row with its unchanged (TOAST) columns filled from older versions, or a tombstone (key columns
/// only, `isDeleted`). Versions of a key at or below `after` are not returned; versions in between are collapsed
/// into the newest (a consumer that applies "higher version wins", such as ClickHouse's ReplacingMergeTree, ends up
/// in the same state).
///
/// It merges only the parts holding versions above `after` (one row group per part in memory). An unchanged column
/// whose older value lies in an older part is looked up by key (a `FinalReader` with the key's values); when a batch
/// needs more than `lookupLimit` such lookups, the reader starts over merging every part of the partitions involved
/// (rows returned before may then come again: harmless for a version-deduplicating consumer).
public struct ChangeReader {
    /// The reader columns (the union of schema versions), in manifest order.
    public let columns: [ColumnDefinition]
    /// The manifest snapshot being read.
    public let manifest: Manifest
    /// The highest version in the snapshot: after reading everything, the table is known up to here.
    public let upToVersion: UInt64
    /// Rows the parts above `after` hold (an upper bound of the changed keys).
    public let pendingRows: Int
    /// Lookups by key per batch before the reader switches to merging every part.
    public var lookupLimit = 8
    /// Unchanged columns that had no older value (returned as NULL; should stay 0).
    public private(set) var unresolvedUnchanged = 0
    /// True once the reader merges every part of the touched partitions.
    public private(set) var mergesAllParts = false
    private var merge: KeyMerge?
    private let after: UInt64
    private let batchRows: Int
    private let store: Store
    private let table: String
    private let keys: [Int]

    init(store: Store, table: String, after: UInt64, batchRows: Int) throws {
        let m = try store.manifest(table)
        manifest = m
        columns = m.readerColumns
        self.after = after
        self.batchRows = batchRows
        self.store = store
        self.table = table
        keys = TableSchema(columns: columns, keyColumns: m.keyColumns).keyIndexes
        upToVersion = m.parts.map(\.maxVersion).max() ?? 0
        let newer = m.parts.filter { $0.maxVersion > after }
        pendingRows = newer.reduce(0) { $0 + $1.rows }
        // Reading from version 0 needs every part anyway.
        merge = newer.isEmpty ? nil : try open(newer.count == m.parts.count ? m.parts : newer)
        mergesAllParts = newer.count == m.parts.count
    }

    private func open(_ parts: [PartEntry]) throws -> KeyMerge {
        let dir = store.tableDirectory(table)
        let order = manifest.partOrder
        let target = columns
        let cursors = try parts.map {
            try PartCursor(table: table, tableDirectory: dir, entry: $0, order: order[$0.path] ?? 0,
                           target: target, verifyChecksum: store.options.verifyChecksums)
        }
        return try KeyMerge(cursors: cursors, keys: keys)
    }

    /// Every part of the partitions that hold a part above `after` (all parts unless the partitioning derives from
    /// the key: a key's versions then stay in one partition).
    private var allRelevantParts: [PartEntry] {
        let m = manifest
        guard m.partitioning.isDerivedFromKey(m.keyColumns) else { return m.parts }
        let touched = Set(m.parts.filter { $0.maxVersion > after }.map(\.partition))
        return m.parts.filter { touched.contains($0.partition) }
    }

    /// The next changed rows (at most the batch size; tombstones flagged by `isDeleted`), or nil at the end.
    public mutating func next() throws -> RowBatch? {
        while true {
            guard var current = merge else { return nil }
            var out = RowBatch(columns: columns)
            var exhausted = false
            let unresolvedBefore = current.unresolved
            while out.count < batchRows {
                guard try current.nextKey() else { exhausted = true; break }
                guard let last = current.group.last, last.batch.versions[last.row] > after else { continue }
                _ = current.resolve(into: &out, keepTombstones: true, keepMarkers: !mergesAllParts)
            }
            unresolvedUnchanged += current.unresolved - unresolvedBefore
            merge = exhausted ? nil : current
            if out.hasUnchanged {
                let marked = (0..<out.count).filter { r in out.columns.indices.contains { out.isUnchanged(r, $0) } }
                if marked.count > lookupLimit {
                    merge = try open(allRelevantParts)
                    mergesAllParts = true
                    continue
                }
                out = try resolvedByLookup(out, rows: Set(marked))
            }
            if out.count == 0 && exhausted { return nil }
            return out
        }
    }

    /// `batch` with the unchanged columns of `rows` taken from the table's current row of the same key.
    private mutating func resolvedByLookup(_ batch: RowBatch, rows: Set<Int>) throws -> RowBatch {
        var out = RowBatch(columns: columns)
        out.reserveCapacity(batch.count)
        for r in 0..<batch.count {
            guard rows.contains(r) else { out.appendRow(from: batch, row: r); continue }
            let predicates = keys.map { k in
                ColumnPredicate(column: columns[k].name, op: .eq, literal: ValueText.render(batch, r, k) ?? "")
            }
            var reader = try FinalReader(store: store, table: table, columns: nil, predicates: predicates, batchRows: 64)
            var found: RowBatch? = nil
            while let b = try reader.next() {
                if b.count > 0 { found = b; break }
            }
            for c in columns.indices {
                guard batch.isUnchanged(r, c) else { out.copyValue(from: batch, row: r, column: c, to: c); continue }
                if let found, found.count > 0, let fc = found.columns.firstIndex(where: { $0.name == columns[c].name }),
                   found.columns[fc].type.storage == columns[c].type.storage, !found.isUnchanged(0, fc) {
                    out.copyValue(from: found, row: 0, column: fc, to: c)
                } else {
                    out.appendNull(column: c)
                    unresolvedUnchanged += 1
                }
            }
            out.finishCopiedRow(version: batch.versions[r], deleted: batch.isDeleted(r))
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
