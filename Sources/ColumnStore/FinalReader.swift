import Foundation

/// Reads a table as `SELECT … FINAL` would: the latest non-deleted version of every key, with unchanged (TOAST)
/// columns carried forward from older versions, merged on the fly from a manifest snapshot's parts.
///
/// Streaming: one row group per part in memory. Predicates filter the deduplicated rows; those on a key-derived
/// partition column also skip whole partitions. When only one part is left to read and its keys are unique (a
/// compacted or settled table of one partition), its row groups are filtered in place, without the key merge: each
/// row is its key's only version. (A predicate on a column that is not part of the key cannot prune
/// parts: an older version that matches would survive while the newer one that does not was skipped.)
public struct FinalReader {
    /// The output columns, in the order asked for.
    public let columns: [ColumnDefinition]
    /// The manifest snapshot being read.
    public let manifest: Manifest
    /// The k-way merge over the parts, or nil when `direct` reads the only part.
    private var merge: KeyMerge?
    /// The only part to read, when its keys are unique: rows taken as stored, tombstones dropped.
    private var direct: PartCursor?
    /// The next row of `direct`'s current row group; nil before its first.
    private var directRow: Int?
    private let predicates: [BoundPredicate]
    private let readColumns: [ColumnDefinition]
    private let projection: [Int]
    private let batchRows: Int
    private var done = false
    /// Row groups skipped by their key-column statistics so far.
    public var skippedRowGroups: Int { merge?.skippedRowGroups ?? direct?.skippedRowGroups ?? 0 }
    /// Parts the reader opens after partition pruning.
    public let partsRead: Int
    /// Rows whose unchanged column had no older value in the store (shown as NULL; should never happen).
    /// (Counted for returned rows only: a row filtered out may miss older versions that pruning skipped.)
    public private(set) var unresolvedUnchanged = 0

    init(store: Store, table: String, columns wanted: [String]?, predicates: [ColumnPredicate], batchRows: Int) throws {
        let m = try store.manifest(table)
        manifest = m
        let all = m.readerColumns
        let names = wanted ?? all.map(\.name)
        for n in names where !all.contains(where: { $0.name == n }) { throw StoreError.unknownColumn(table: table, column: n) }
        let needed = Set(names).union(m.keyColumns).union(predicates.map(\.column))
        let readColumns = all.filter { needed.contains($0.name) }
        self.readColumns = readColumns
        columns = names.compactMap { n in all.first { $0.name == n } }
        projection = names.compactMap { n in readColumns.firstIndex { $0.name == n } }
        let bound = try predicates.map { try BoundPredicate($0, columns: readColumns, table: table) }
        self.predicates = bound
        self.batchRows = batchRows
        let keys = TableSchema(columns: readColumns, keyColumns: m.keyColumns).keyIndexes
        var parts = m.parts
        if m.partitioning.isDerivedFromKey(m.keyColumns) {
            let cols = readColumns
            parts = parts.filter { p in bound.allSatisfy { $0.mayMatch(partition: p.partition, spec: m.partitioning, keyIndexes: keys, columns: cols) } }
        }
        let dir = store.tableDirectory(table)
        let order = m.partOrder
        let target = readColumns
        // Row-group statistics may prune only by key columns: every version of a key shares their values.
        let prune = bound.filter { m.keyColumns.contains($0.predicate.column) }
        let cursors = try parts.map {
            try PartCursor(table: table, tableDirectory: dir, entry: $0, order: order[$0.path] ?? 0,
                           target: target, verifyChecksum: store.options.verifyChecksums, prune: prune)
        }
        partsRead = cursors.count
        if cursors.count == 1, let only = cursors.first, only.entry.uniqueKeys == true {
            direct = only
        } else {
            merge = try KeyMerge(cursors: cursors, keys: keys)
        }
    }

    /// The next rows (at most the batch size), or nil at the end.
    public mutating func next() throws -> RowBatch? {
        if done { return nil }
        if direct != nil { return try nextDirect().map(project) }
        guard var merge else { return nil }
        self.merge = nil        // one owner while it advances (no copy of its buffers)
        defer { self.merge = merge }
        var out = RowBatch(columns: readColumns)
        var kept = [Int]()
        while out.count < batchRows {
            guard try merge.nextKey() else { done = true; break }
            let before = out.count, unresolved = merge.unresolved
            guard merge.resolve(into: &out, keepTombstones: false, keepMarkers: false) else { continue }
            if predicates.allSatisfy({ $0.matches(out, before) }) {
                kept.append(before)
                unresolvedUnchanged += merge.unresolved - unresolved
            }
        }
        if out.count == 0 && done { return nil }
        return project(kept.count == out.count ? out : out.gathered(kept))
    }

    /// The next rows of the only part (unique keys): up to `batchRows` rows of its current row group that are not
    /// tombstones and match the predicates, gathered without a per-row merge; columns marked unchanged become NULL
    /// (no older version exists).
    private mutating func nextDirect() throws -> RowBatch? {
        guard var cursor = direct else { return nil }
        direct = nil
        defer { direct = cursor }
        while true {
            var start = directRow ?? 0
            if directRow == nil || start >= cursor.batch.count {
                guard try cursor.loadNext() else { done = true; return nil }
                start = 0
            }
            let batch = cursor.batch
            var kept = [Int]()
            kept.reserveCapacity(min(batchRows, batch.count - start))
            var r = start
            while r < batch.count && kept.count < batchRows {
                if !batch.isDeleted(r) && predicates.allSatisfy({ $0.matches(batch, r) }) { kept.append(r) }
                r += 1
            }
            directRow = r
            guard !kept.isEmpty else { continue }
            guard batch.hasUnchanged else { return kept.count == batch.count ? batch : batch.gathered(kept) }
            var out = RowBatch(columns: readColumns)
            for row in kept {
                for c in 0..<readColumns.count {
                    if batch.isUnchanged(row, c) { out.appendNull(column: c); unresolvedUnchanged += 1 } else {
                        out.copyValue(from: batch, row: row, column: c, to: c)
                    }
                }
                out.finishCopiedRow(version: batch.versions[row], deleted: false)
            }
            return out
        }
    }

    /// `batch` (the read columns) reduced to the columns asked for, in their order.
    private func project(_ batch: RowBatch) -> RowBatch {
        if projection == Array(readColumns.indices) { return batch }
        return RowBatch(columns: columns, buffers: projection.map { batch.buffers[$0] },
                        versions: batch.versions, deleted: batch.deleted)
    }
}

extension Store {
    /// A FINAL reader over the table's current manifest. `columns` nil = all reader columns (the union of schema
    /// versions); rows come in key order.
    public func read(_ table: String, columns: [String]? = nil, where predicates: [ColumnPredicate] = [],
                     batchRows: Int = 8192) throws -> FinalReader {
        try FinalReader(store: self, table: table, columns: columns, predicates: predicates, batchRows: batchRows)
    }
}
