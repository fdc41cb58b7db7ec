import Foundation

/// Rows picked from several batches of the same columns, gathered column by column into one batch: what the key
/// merge of a FINAL read hands out, built without copying each row value by value as it is picked.
struct RowBatchPicks {
    /// The batches rows are picked from (a batch is added once, at its first pick).
    private(set) var sources: [RowBatch] = []
    private var slots: [Int32] = []
    private var rows: [Int32] = []

    /// Rows picked so far.
    var count: Int { rows.count }

    /// Adds `batch` as a source; returns its slot for `pick`.
    mutating func add(_ batch: RowBatch) -> Int {
        sources.append(batch)
        return sources.count - 1
    }

    /// Replaces the batch in `slot` (one that grows while rows are picked from it, handed in again before `gathered`).
    mutating func replace(_ slot: Int, with batch: RowBatch) { sources[slot] = batch }

    /// Picks row `row` of the batch in `slot` as the next row.
    mutating func pick(slot: Int, row: Int) {
        slots.append(Int32(slot))
        rows.append(Int32(row))
    }

    /// One batch of `columns` holding the picked rows, in pick order.
    func gathered(columns: [ColumnDefinition]) -> RowBatch {
        var out = RowBatch(columns: columns)
        let n = rows.count
        out.versions = (0..<n).map { sources[Int(slots[$0])].versions[Int(rows[$0])] }
        var deleted = Bitmap()
        deleted.reserve(n)
        for i in 0..<n { deleted.append(sources[Int(slots[i])].deleted[Int(rows[i])]) }
        out.deleted = deleted
        for c in columns.indices {
            var dst = BatchColumn(storage: columns[c].type.storage)
            switch dst.storage {
            case .int64: dst.ints = (0..<n).map { sources[Int(slots[$0])].buffers[c].ints[Int(rows[$0])] }
            case .double: dst.doubles = (0..<n).map { sources[Int(slots[$0])].buffers[c].doubles[Int(rows[$0])] }
            case .int128: dst.wides = (0..<n).map { sources[Int(slots[$0])].buffers[c].wides[Int(rows[$0])] }
            case .bytes: (dst.arena, dst.ends) = gatheredBytes(c)
            }
            dst.nulls.reserve(n)
            dst.unchanged.reserve(n)
            for i in 0..<n {
                let s = Int(slots[i]), r = Int(rows[i])
                dst.nulls.append(sources[s].buffers[c].nulls[r])
                dst.unchanged.append(sources[s].buffers[c].unchanged[r])
            }
            out.buffers[c] = dst
        }
        return out
    }

    /// Byte column `c` of the picked rows: one arena of exactly the right size, filled with one copy per value.
    private func gatheredBytes(_ c: Int) -> (arena: [UInt8], ends: [Int]) {
        let n = rows.count
        var total = 0
        for i in 0..<n { total += sources[Int(slots[i])].buffers[c].range(Int(rows[i])).count }
        var ends = [Int](repeating: 0, count: n)
        let arena = [UInt8](unsafeUninitializedCapacity: total) { out, initialized in
            var o = 0
            for i in 0..<n {
                let s = Int(slots[i])
                let r = sources[s].buffers[c].range(Int(rows[i]))
                if !r.isEmpty {
                    sources[s].buffers[c].arena.withUnsafeBufferPointer { src in
                        (out.baseAddress! + o).initialize(from: src.baseAddress! + r.lowerBound, count: r.count)
                    }
                }
                o += r.count
                ends[i] = o
            }
            initialized = total
        }
        return (arena, ends)
    }
}
