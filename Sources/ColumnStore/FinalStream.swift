import Foundation

/// The FINAL rows of a set of parts that no other part of the read shares a key with (all of a table's parts, or one
/// partition's of a key-derived partitioning), in key order, as batches of the reader's columns.
///
/// One part with unique keys is read in place (its row groups filtered, no key merge: each row is its key's only
/// version); several parts go through the k-way `KeyMerge`. Predicates filter the deduplicated rows.
struct FinalStream: Sendable {
    /// The k-way merge over the parts, or nil when `direct` reads the only part.
    private var merge: KeyMerge?
    /// The only part to read, when its keys are unique: rows taken as stored, tombstones dropped.
    private var direct: PartCursor?
    /// The next row of `direct`'s current row group; nil before its first.
    private var directRow: Int?
    private let predicates: [BoundPredicate]
    private let columns: [ColumnDefinition]
    private var done = false
    /// Rows whose unchanged column had no older value in the parts (shown as NULL), among the returned rows.
    private(set) var unresolvedUnchanged = 0
    /// Row groups skipped by their key-column statistics so far.
    var skippedRowGroups: Int { merge?.skippedRowGroups ?? direct?.skippedRowGroups ?? 0 }

    /// `cursors`' parts must hold every version of their keys; `keys` are the key columns' indexes in `columns`.
    init(cursors: [PartCursor], keys: [Int], columns: [ColumnDefinition], predicates: [BoundPredicate]) throws {
        self.columns = columns
        self.predicates = predicates
        if cursors.count == 1, let only = cursors.first, only.entry.uniqueKeys == true {
            direct = only
        } else {
            merge = try KeyMerge(cursors: cursors, keys: keys)
        }
    }

    /// The next rows (at most `batchRows`, never empty), or nil at the end.
    mutating func next(batchRows: Int) throws -> RowBatch? {
        if done { return nil }
        if direct != nil { return try nextDirect(batchRows) }
        guard var merge else { return nil }
        self.merge = nil        // one owner while it advances (no copy of its buffers)
        defer { self.merge = merge }
        while !done {
            // A key's newest version without unchanged markers is picked where it lies (gathered column by column at
            // the end); one whose batch has markers is resolved across its versions into `resolved`.
            var picks = RowBatchPicks()
            var resolved = RowBatch(columns: columns)
            let resolvedSlot = picks.add(resolved)
            var slotOf = [(loads: Int, slot: Int, unchanged: Bool)](repeating: (-1, -1, false), count: merge.cursorCount)
            while picks.count < batchRows {
                guard try merge.nextKey() else { done = true; break }
                guard let newest = merge.group.last, !newest.batch.isDeleted(newest.row) else { continue }
                if slotOf[newest.cursor].loads != newest.loads {
                    slotOf[newest.cursor] = (newest.loads, picks.add(newest.batch), newest.batch.hasUnchanged)
                }
                let source = slotOf[newest.cursor]
                if !source.unchanged {
                    if predicates.allSatisfy({ $0.matches(newest.batch, newest.row) }) { picks.pick(slot: source.slot, row: newest.row) }
                    continue
                }
                let before = resolved.count, unresolved = merge.unresolved
                guard merge.resolve(into: &resolved, keepTombstones: false, keepMarkers: false) else { continue }
                if predicates.allSatisfy({ $0.matches(resolved, before) }) {
                    picks.pick(slot: resolvedSlot, row: before)
                    unresolvedUnchanged += merge.unresolved - unresolved
                }
            }
            if picks.count > 0 {
                picks.replace(resolvedSlot, with: resolved)
                return picks.gathered(columns: columns)
            }
        }
        return nil
    }

    /// The next rows of the only part (unique keys): up to `batchRows` rows of its current row group that are not
    /// tombstones and match the predicates, gathered without a per-row merge; columns marked unchanged become NULL
    /// (no older version exists).
    private mutating func nextDirect(_ batchRows: Int) throws -> RowBatch? {
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
            var out = RowBatch(columns: columns)
            for row in kept {
                for c in 0..<columns.count {
                    if batch.isUnchanged(row, c) { out.appendNull(column: c); unresolvedUnchanged += 1 } else {
                        out.copyValue(from: batch, row: row, column: c, to: c)
                    }
                }
                out.finishCopiedRow(version: batch.versions[row], deleted: false)
            }
            return out
        }
    }
}
