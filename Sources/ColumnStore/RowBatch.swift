import Foundation

/// The values of one column of a `RowBatch`: one contiguous array for the column's storage class,
/// a byte arena with end offsets for strings and bytes, and per-row null and unchanged bits.
struct BatchColumn: Sendable {
    let storage: StoreType.Storage
    var ints: [Int64] = []
    var doubles: [Double] = []
    var wides: [Int128] = []
    var arena: [UInt8] = []
    /// End offset in `arena` of each value; a value starts where the previous one ended.
    var ends: [Int] = []
    var nulls = Bitmap()
    var unchanged = Bitmap()

    init(storage: StoreType.Storage) { self.storage = storage }
    var count: Int { nulls.count }

    /// Appends the storage placeholder for a row without a value (null or unchanged).
    mutating func appendPlaceholder() {
        switch storage {
        case .int64: ints.append(0)
        case .double: doubles.append(0)
        case .int128: wides.append(0)
        case .bytes: ends.append(arena.count)
        }
    }

    func range(_ row: Int) -> Range<Int> { (row == 0 ? 0 : ends[row - 1])..<ends[row] }
}

/// Rows of one table, stored column by column, each with its `_version`, a deleted flag (tombstone) and
/// per-column "unchanged" markers (TOAST values an UPDATE did not send).
///
/// Build a row by appending exactly one value (or `appendNull` / `appendUnchanged`) to every column, then call
/// `finishRow(version:)`. A tombstone needs only the key columns, then `finishTombstone(version:)`.
/// Appending never allocates per value: fixed-width values go to contiguous arrays, strings and bytes to one arena.
public struct RowBatch: Sendable {
    /// The columns, in schema order (no internal columns).
    public let columns: [ColumnDefinition]
    var buffers: [BatchColumn]
    /// `_version` of each row.
    public internal(set) var versions: [UInt64] = []
    var deleted = Bitmap()

    /// Number of finished rows.
    public var count: Int { versions.count }

    /// An empty batch for `columns`.
    public init(columns: [ColumnDefinition]) {
        self.columns = columns
        self.buffers = columns.map { BatchColumn(storage: $0.type.storage) }
    }

    /// An empty batch for the columns of `schema`.
    public init(schema: TableSchema) { self.init(columns: schema.columns) }

    /// Reserves room for `rows` rows.
    public mutating func reserveCapacity(_ rows: Int) {
        versions.reserveCapacity(rows)
        for i in buffers.indices {
            switch buffers[i].storage {
            case .int64: buffers[i].ints.reserveCapacity(rows)
            case .double: buffers[i].doubles.reserveCapacity(rows)
            case .int128: buffers[i].wides.reserveCapacity(rows)
            case .bytes: buffers[i].ends.reserveCapacity(rows)
            }
            buffers[i].nulls.reserve(rows)
            buffers[i].unchanged.reserve(rows)
        }
    }

    // MARK: appending

    /// Appends an integer-like value: bool (0/1), int16/32/64, date (days), timestamp(tz) (micros) or the unscaled
    /// value of a decimal with precision ≤ 18.
    @inline(__always)
    public mutating func append(_ value: Int64, column: Int) {
        precondition(buffers[column].storage == .int64, "column \(column) does not hold 64-bit integers")
        buffers[column].ints.append(value)
        markPresent(column)
    }

    /// Appends a boolean.
    @inline(__always)
    public mutating func append(_ value: Bool, column: Int) { append(Int64(value ? 1 : 0), column: column) }

    /// Appends a float32 or float64 value.
    @inline(__always)
    public mutating func append(_ value: Double, column: Int) {
        precondition(buffers[column].storage == .double, "column \(column) does not hold floating point")
        buffers[column].doubles.append(value)
        markPresent(column)
    }

    /// Appends the unscaled value of a decimal with precision 19…38.
    @inline(__always)
    public mutating func append(decimal128 value: Int128, column: Int) {
        precondition(buffers[column].storage == .int128, "column \(column) is not a wide decimal")
        buffers[column].wides.append(value)
        markPresent(column)
    }

    /// Appends raw bytes (UTF-8 text for string columns) straight from a buffer, e.g. the wire.
    @inline(__always)
    public mutating func append(bytes: UnsafeRawBufferPointer, column: Int) {
        precondition(buffers[column].storage == .bytes, "column \(column) does not hold bytes")
        buffers[column].arena.append(contentsOf: bytes)
        buffers[column].ends.append(buffers[column].arena.count)
        markPresent(column)
    }

    /// Appends a string (stored as UTF-8).
    public mutating func append(_ value: String, column: Int) {
        var s = value
        s.withUTF8 { append(bytes: UnsafeRawBufferPointer($0), column: column) }
    }

    /// Appends a value that `write` appends straight to the column's byte arena (e.g. text formatted from a binary
    /// value, without an intermediate buffer). Nothing is appended when `write` throws.
    @inline(__always)
    public mutating func appendBytes<E: Error>(column: Int, _ write: (inout [UInt8]) throws(E) -> Void) throws(E) {
        precondition(buffers[column].storage == .bytes, "column \(column) does not hold bytes")
        let start = buffers[column].arena.count
        do {
            try write(&buffers[column].arena)
        } catch {
            buffers[column].arena.removeSubrange(start...)
            throw error
        }
        buffers[column].ends.append(buffers[column].arena.count)
        markPresent(column)
    }

    /// Appends bytes from any collection.
    public mutating func append<C: Collection>(byteCollection value: C, column: Int) where C.Element == UInt8 {
        precondition(buffers[column].storage == .bytes, "column \(column) does not hold bytes")
        buffers[column].arena.append(contentsOf: value)
        buffers[column].ends.append(buffers[column].arena.count)
        markPresent(column)
    }

    /// Records that the value just appended to `column` is present (neither NULL nor unchanged).
    @inline(__always)
    private mutating func markPresent(_ column: Int) {
        buffers[column].nulls.append(false)
        buffers[column].unchanged.append(false)
    }

    /// Appends SQL NULL.
    @inline(__always)
    public mutating func appendNull(column: Int) {
        buffers[column].appendPlaceholder()
        buffers[column].nulls.append(true)
        buffers[column].unchanged.append(false)
    }

    /// Marks the column unchanged in this row (a TOASTed value the UPDATE did not send): readers and merges carry
    /// the previous version's value forward; it is never shown as NULL.
    @inline(__always)
    public mutating func appendUnchanged(column: Int) {
        buffers[column].appendPlaceholder()
        buffers[column].nulls.append(false)
        buffers[column].unchanged.append(true)
    }

    /// Ends the current row. Every column must have received exactly one value.
    public mutating func finishRow(version: UInt64) {
        for i in buffers.indices {
            precondition(buffers[i].count == versions.count + 1, "column \(columns[i].name) was not set in this row")
        }
        versions.append(version)
        deleted.append(false)
    }

    /// Ends a tombstone (a delete): the key columns must have been appended; the other columns become NULL.
    public mutating func finishTombstone(version: UInt64) {
        for i in buffers.indices where buffers[i].count == versions.count { appendNull(column: i) }
        for i in buffers.indices {
            precondition(buffers[i].count == versions.count + 1, "column \(columns[i].name) was set twice")
        }
        versions.append(version)
        deleted.append(true)
    }

    /// Drops every row: the batch becomes a new, empty one of the same columns (its buffers are released).
    public mutating func removeAll() {
        self = RowBatch(columns: columns)
    }

    /// Drops every row but keeps the buffers' capacity, for a batch refilled to about the same size (the snapshot's):
    /// no fresh allocation, so no page faults on memory the kernel must zero again.
    public mutating func removeAllKeepingCapacity() {
        versions.removeAll(keepingCapacity: true)
        deleted.removeAll(keepingCapacity: true)
        for i in buffers.indices {
            buffers[i].ints.removeAll(keepingCapacity: true)
            buffers[i].doubles.removeAll(keepingCapacity: true)
            buffers[i].wides.removeAll(keepingCapacity: true)
            buffers[i].arena.removeAll(keepingCapacity: true)
            buffers[i].ends.removeAll(keepingCapacity: true)
            buffers[i].nulls.removeAll(keepingCapacity: true)
            buffers[i].unchanged.removeAll(keepingCapacity: true)
        }
    }

    // MARK: reading

    /// True when `row` is a tombstone.
    public func isDeleted(_ row: Int) -> Bool { deleted[row] }
    /// True when the column is NULL in `row`.
    public func isNull(_ row: Int, _ column: Int) -> Bool { buffers[column].nulls[row] }
    /// True when the column is marked unchanged in `row`.
    public func isUnchanged(_ row: Int, _ column: Int) -> Bool { buffers[column].unchanged[row] }
    /// The integer-like value (see `append(_:column:)` for Int64).
    public func int64(_ row: Int, _ column: Int) -> Int64 { buffers[column].ints[row] }
    /// The floating point value.
    public func double(_ row: Int, _ column: Int) -> Double { buffers[column].doubles[row] }
    /// The unscaled wide decimal.
    public func int128(_ row: Int, _ column: Int) -> Int128 { buffers[column].wides[row] }
    /// The bytes of a string or bytes value.
    public func bytes(_ row: Int, _ column: Int) -> ArraySlice<UInt8> {
        buffers[column].arena[buffers[column].range(row)]
    }
    /// The text of a string column (nil when NULL or unchanged).
    public func string(_ row: Int, _ column: Int) -> String? {
        if isNull(row, column) || isUnchanged(row, column) { return nil }
        return String(decoding: bytes(row, column), as: UTF8.self)
    }

    /// True when some row has an unchanged column.
    var hasUnchanged: Bool { buffers.contains { $0.unchanged.any } }

    // MARK: row copies

    /// Appends column `source` of `row` in `batch` (value, NULL or unchanged marker) to column `column`.
    /// Both columns must share a storage class.
    @inline(__always)
    mutating func copyValue(from batch: RowBatch, row: Int, column source: Int, to column: Int) {
        // Every access goes through `batch.buffers[source]` instead of a local copy of the BatchColumn: copying the
        // struct retains and releases its eight arrays per value (a third of a merge's time in perf).
        if batch.buffers[source].nulls[row] { appendNull(column: column); return }
        if batch.buffers[source].unchanged[row] { appendUnchanged(column: column); return }
        switch batch.buffers[source].storage {
        case .int64: append(batch.buffers[source].ints[row], column: column)
        case .double: append(batch.buffers[source].doubles[row], column: column)
        case .int128: append(decimal128: batch.buffers[source].wides[row], column: column)
        case .bytes:
            precondition(buffers[column].storage == .bytes)
            let r = batch.buffers[source].range(row)
            batch.buffers[source].arena.withUnsafeBufferPointer { p in
                buffers[column].arena.append(contentsOf: UnsafeBufferPointer(rebasing: p[r]))
            }
            buffers[column].ends.append(buffers[column].arena.count)
            markPresent(column)
        }
    }

    /// Appends a whole row of a batch with the same columns.
    mutating func appendRow(from batch: RowBatch, row: Int) {
        for c in buffers.indices { copyValue(from: batch, row: row, column: c, to: c) }
        versions.append(batch.versions[row])
        deleted.append(batch.deleted[row])
    }

    /// Ends a row assembled with `copyValue` (no per-column checks: internal callers set every column).
    mutating func finishCopiedRow(version: UInt64, deleted isDeleted: Bool) {
        versions.append(version)
        deleted.append(isDeleted)
    }

    // MARK: ordering

    /// Compares the keys of two rows (of batches with the same columns): negative, zero or positive.
    @inline(__always)
    static func compareKeys(_ a: RowBatch, _ ar: Int, _ b: RowBatch, _ br: Int, _ keys: [Int]) -> Int {
        for k in keys {
            let c = compareColumn(a, ar, k, b, br, k)
            if c != 0 { return c }
        }
        return 0
    }

    @inline(__always)
    static func compareBytes(_ a: [UInt8], _ ra: Range<Int>, _ b: [UInt8], _ rb: Range<Int>) -> Int {
        let n = min(ra.count, rb.count)
        let c = a.withUnsafeBufferPointer { pa in
            b.withUnsafeBufferPointer { pb -> Int32 in
                guard n > 0, let x = pa.baseAddress, let y = pb.baseAddress else { return 0 }
                return memcmp(x + ra.lowerBound, y + rb.lowerBound, n)
            }
        }
        if c != 0 { return c < 0 ? -1 : 1 }
        return ra.count == rb.count ? 0 : (ra.count < rb.count ? -1 : 1)
    }

    /// The rows sorted by (key, _version); rows equal in both keep their order.
    func sorted(keys: [Int]) -> RowBatch {
        // Snapshots read tables in heap order, which for serial keys is usually key order already: one pass of
        // comparisons instead of a sort plus a copy of every column.
        if isSorted(keys: keys) { return self }
        return gathered(keyOrder(of: Array(0..<count), keys: keys))
    }

    /// `rows` (indexes into the batch) in (key, _version) order; rows equal in both keep their order in `rows`.
    /// Returns `rows` itself when they are in that order already (one pass of comparisons, no sort).
    func keyOrder(of rows: [Int], keys: [Int]) -> [Int] {
        if isSorted(rows, keys: keys) { return rows }
        var order = rows
        // A stable order: ties broken by position in `rows`, which the sort's comparison cannot see.
        var position = [Int](repeating: 0, count: count)
        for (k, r) in rows.enumerated() { position[r] = k }
        order.sort { i, j in
            let c = RowBatch.compareKeys(self, i, self, j, keys)
            if c != 0 { return c < 0 }
            if versions[i] != versions[j] { return versions[i] < versions[j] }
            return position[i] < position[j]
        }
        return order
    }

    /// True when the rows are already in (key, _version) order.
    func isSorted(keys: [Int]) -> Bool { isSorted(0..<count, keys: keys) }

    /// True when the rows at `rows` (indexes, in that order) are in (key, _version) order.
    private func isSorted<C: Collection>(_ rows: C, keys: [Int]) -> Bool where C.Element == Int {
        for (a, b) in zip(rows, rows.dropFirst()) {
            let c = RowBatch.compareKeys(self, a, self, b, keys)
            if c > 0 || c == 0 && versions[a] > versions[b] { return false }
        }
        return true
    }

    /// True when two neighbours in `order` (rows in (key, _version) order) have the same key and version: a
    /// transaction changed the row twice, and `collapsingEqualVersions` must make one row of them.
    func hasEqualVersions(in order: [Int], keys: [Int]) -> Bool {
        guard order.count > 1 else { return false }
        for k in 1..<order.count where versions[order[k]] == versions[order[k - 1]]
            && RowBatch.compareKeys(self, order[k], self, order[k - 1], keys) == 0 {
            return true
        }
        return false
    }

    /// The values of byte column `src` at `rows`, in that order: one arena of exactly the right size, filled value by
    /// value with `memcpy` (no per-value array appends, no growth).
    private static func gatheredBytes(_ src: BatchColumn, _ rows: [Int]) -> (arena: [UInt8], ends: [Int]) {
        src.arena.withUnsafeBytes { arena in
            src.ends.withUnsafeBufferPointer { srcEnds in
                var total = 0
                for r in rows { total += srcEnds[r] - (r == 0 ? 0 : srcEnds[r - 1]) }
                var ends = [Int](repeating: 0, count: rows.count)
                let bytes = [UInt8](unsafeUninitializedCapacity: total) { out, initialized in
                    ends.withUnsafeMutableBufferPointer { dstEnds in
                        var o = 0
                        for (k, r) in rows.enumerated() {
                            let lo = r == 0 ? 0 : srcEnds[r - 1]
                            let n = srcEnds[r] - lo
                            if n > 0 { (out.baseAddress! + o).initialize(from: arena.baseAddress!.assumingMemoryBound(to: UInt8.self) + lo, count: n) }
                            o += n
                            dstEnds[k] = o
                        }
                    }
                    initialized = total
                }
                return (bytes, ends)
            }
        }
    }

    /// A batch holding the rows at `rows`, in that order.
    func gathered(_ rows: [Int]) -> RowBatch {
        var out = RowBatch(columns: columns)
        out.versions = rows.map { versions[$0] }
        var del = Bitmap(); del.reserve(rows.count)
        for r in rows { del.append(deleted[r]) }
        out.deleted = del
        for c in buffers.indices {
            let src = buffers[c]
            var dst = BatchColumn(storage: src.storage)
            switch src.storage {
            case .int64: dst.ints = rows.map { src.ints[$0] }
            case .double: dst.doubles = rows.map { src.doubles[$0] }
            case .int128: dst.wides = rows.map { src.wides[$0] }
            case .bytes: (dst.arena, dst.ends) = RowBatch.gatheredBytes(src, rows)
            }
            dst.nulls.reserve(rows.count); dst.unchanged.reserve(rows.count)
            for r in rows { dst.nulls.append(src.nulls[r]); dst.unchanged.append(src.unchanged[r]) }
            out.buffers[c] = dst
        }
        return out
    }

    /// Builds a batch directly from column buffers (used by part readers).
    init(columns: [ColumnDefinition], buffers: [BatchColumn], versions: [UInt64], deleted: Bitmap) {
        self.columns = columns
        self.buffers = buffers
        self.versions = versions
        self.deleted = deleted
    }

    /// Approximate bytes held (for batch limits).
    public var approximateBytes: Int {
        var n = versions.count * 9
        for b in buffers { n += b.ints.count * 8 + b.doubles.count * 8 + b.wides.count * 16 + b.arena.count + b.ends.count * 8 }
        return n
    }
}

extension RowBatch {
    /// Consecutive row ranges covering the batch, each of at most `maxRows` rows and at most about `maxBytes` bytes
    /// counted as `approximateBytes` does (a range holds at least one row).
    func rowRanges(maxRows: Int, maxBytes: Int) -> [Range<Int>] {
        rowRanges(of: nil, maxRows: maxRows, maxBytes: maxBytes)
    }

    /// Consecutive ranges of positions in `order` (row indexes; nil: every row in place), each of at most `maxRows`
    /// rows and at most about `maxBytes` bytes counted as `approximateBytes` does (a range holds at least one row).
    func rowRanges(of order: [Int]?, maxRows: Int, maxBytes: Int) -> [Range<Int>] {
        var fixed = 9
        for b in buffers {
            switch b.storage {
            case .int64, .double, .bytes: fixed += 8
            case .int128: fixed += 16
            }
        }
        let byteColumns = buffers.indices.filter { buffers[$0].storage == .bytes }
        let n = order?.count ?? count
        var ranges: [Range<Int>] = []
        var start = 0, bytes = 0
        for k in 0..<n {
            let r = order?[k] ?? k
            var size = fixed
            for c in byteColumns {
                size += buffers[c].ends[r] - (r == 0 ? 0 : buffers[c].ends[r - 1])
            }
            if k > start && (k - start >= maxRows || bytes + size > maxBytes) {
                ranges.append(start..<k)
                start = k
                bytes = 0
            }
            bytes += size
        }
        if start < n { ranges.append(start..<n) }
        return ranges
    }

    /// The first `n` rows.
    public func prefix(_ n: Int) -> RowBatch { n >= count ? self : gathered(Array(0..<n)) }
}
