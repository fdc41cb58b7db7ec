import Foundation

/// Streams several parts, each sorted by (key, _version), in global (key, _version, part order) order and hands out
/// one key at a time with all its versions: a k-way merge over a binary heap, one row group per part in memory.
struct KeyMerge: Sendable {
    private var cursors: [PartCursor]
    private var heap: [Int] = []
    private let keys: [Int]
    /// Unchanged columns resolved to NULL because no older value existed (should stay 0).
    private(set) var unresolved = 0
    /// The versions of the current key, oldest first, with the index of the cursor (part) each comes from and the
    /// number of row groups that cursor had loaded when it handed out the row (together: which batch `batch` is).
    private(set) var group: [(batch: RowBatch, row: Int, cursor: Int, loads: Int)] = []

    init(cursors: [PartCursor], keys: [Int]) throws {
        self.cursors = cursors
        self.keys = keys
        for i in self.cursors.indices where try self.cursors[i].loadNext() {
            heap.append(i)
            siftUp(heap.count - 1)
        }
    }

    /// The number of cursors (parts) merged.
    var cursorCount: Int { cursors.count }

    /// Row groups the parts skipped by statistics so far.
    var skippedRowGroups: Int { cursors.reduce(0) { $0 + $1.skippedRowGroups } }

    @inline(__always)
    private func less(_ a: Int, _ b: Int) -> Bool {
        let ca = cursors[a], cb = cursors[b]
        let c = RowBatch.compareKeys(ca.batch, ca.row, cb.batch, cb.row, keys)
        if c != 0 { return c < 0 }
        let va = ca.batch.versions[ca.row], vb = cb.batch.versions[cb.row]
        if va != vb { return va < vb }
        return ca.order < cb.order
    }

    private mutating func siftUp(_ i: Int) {
        var i = i
        while i > 0 {
            let p = (i - 1) / 2
            if less(heap[i], heap[p]) { heap.swapAt(i, p); i = p } else { return }
        }
    }

    private mutating func siftDown(_ i: Int) {
        var i = i
        while true {
            let l = 2 * i + 1, r = l + 1
            var m = i
            if l < heap.count && less(heap[l], heap[m]) { m = l }
            if r < heap.count && less(heap[r], heap[m]) { m = r }
            if m == i { return }
            heap.swapAt(i, m); i = m
        }
    }

    private mutating func popTop() throws {
        let top = heap[0]
        group.append((cursors[top].batch, cursors[top].row, top, cursors[top].loads))
        if try cursors[top].advance() {
            siftDown(0)
        } else {
            heap[0] = heap[heap.count - 1]
            heap.removeLast()
            if !heap.isEmpty { siftDown(0) }
        }
    }

    /// Collects the next key's versions into `group`; false when every part is exhausted.
    mutating func nextKey() throws -> Bool {
        group.removeAll(keepingCapacity: true)
        guard !heap.isEmpty else { return false }
        try popTop()
        while let top = heap.first {
            let c = cursors[top]
            let first = group[0]
            guard RowBatch.compareKeys(first.batch, first.row, c.batch, c.row, keys) == 0 else { break }
            try popTop()
        }
        return true
    }

    /// Appends the current key's resolved row to `out` (same columns as the parts): the newest version, with each
    /// unchanged column taken from the newest older version that has it (never across a tombstone).
    /// A tombstone is appended only when `keepTombstones`; an unchanged column with no older value in the group stays
    /// marked unchanged when `keepMarkers` (a merge: an older part may hold it), else becomes NULL (a reader).
    /// Returns false when nothing was appended.
    mutating func resolve(into out: inout RowBatch, keepTombstones: Bool, keepMarkers: Bool) -> Bool {
        guard let (last, lr, _, _) = group.last else { return false }
        if last.isDeleted(lr) {
            guard keepTombstones else { return false }
            out.appendRow(from: last, row: lr)
            return true
        }
        guard last.hasUnchanged else { out.appendRow(from: last, row: lr); return true }
        for c in 0..<last.columns.count {
            if !last.isUnchanged(lr, c) { out.copyValue(from: last, row: lr, column: c, to: c); continue }
            var found = false, blocked = false
            var i = group.count - 2
            while i >= 0 {
                let (b, r, _, _) = group[i]
                if b.isDeleted(r) { blocked = true; break }
                if !b.isUnchanged(r, c) { out.copyValue(from: b, row: r, column: c, to: c); found = true; break }
                i -= 1
            }
            if !found {
                if keepMarkers && !blocked { out.appendUnchanged(column: c) } else {
                    out.appendNull(column: c)
                    unresolved += 1
                }
            }
        }
        out.finishCopiedRow(version: last.versions[lr], deleted: false)
        return true
    }
}
