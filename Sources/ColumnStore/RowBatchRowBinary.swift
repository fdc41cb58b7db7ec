import Foundation

/// How one output column of `RowBatch.appendRowBinary` is written: ClickHouse's RowBinary layout (row after row,
/// each value little endian, strings as a LEB128 length and the bytes, a `Nullable` value preceded by one byte,
/// 1 for NULL).
public struct RowBinaryColumn: Sendable, Equatable {
    /// The value's form on the wire.
    public enum Field: Sendable, Equatable {
        /// The low `bytes` bytes of the batch's 64-bit integer (1, 2, 4 or 8).
        case int(bytes: Int)
        /// The batch's double as an IEEE 754 single or double.
        case float32, float64
        /// The batch's 128-bit integer (Decimal128), 16 bytes.
        case int128
        /// Length-prefixed bytes (String).
        case string
        /// The batch's canonical UUID text as ClickHouse's UUID: two little-endian UInt64, the first 8 bytes of the
        /// UUID, then the last 8.
        case uuid

        /// Bytes of a value, nil for strings.
        var width: Int? {
            switch self {
            case let .int(n): return n
            case .float32: return 4
            case .float64: return 8
            case .int128, .uuid: return 16
            case .string: return nil
            }
        }
    }

    /// The batch column the values come from; nil writes NULL (or the zero value) in every row.
    public var source: Int?
    public var field: Field
    /// `Nullable(...)` in ClickHouse: one byte before the value. A missing value (NULL, unchanged, no source) in a
    /// column that is not nullable is written as the type's zero (tombstones carry only their key).
    public var nullable: Bool

    public init(source: Int?, field: Field, nullable: Bool) {
        self.source = source
        self.field = field
        self.nullable = nullable
    }
}

/// Rows of `RowBatch.appendRowBinary` split over several insert streams by a hash of their key, so every version of
/// a key goes to the same stream in the order the batches hold them (ClickHouse's tie-break between equal versions
/// is the insert order, which stays true within a stream).
public struct RowBinaryRouting: Sendable, Equatable {
    /// The batch columns of the key.
    public var keyColumns: [Int]
    /// Streams (1 to 255; 1 puts every row in stream 0).
    public var streams: Int

    public init(keyColumns: [Int], streams: Int) {
        self.keyColumns = keyColumns
        self.streams = min(max(1, streams), 255)
    }

    /// The stream of `row` of `batch`: the key's FNV-1a hash (`PartitionSpec.hashKey`), its high half, so that a
    /// store hash-partitioned by the same hash still spreads each partition over every stream.
    public func stream(of batch: RowBatch, row: Int) -> Int {
        Int((PartitionSpec.hashKey(batch, row, keyColumns) >> 32) % UInt64(streams))
    }
}

/// What `RowBatch.appendRowBinary` appended.
public struct RowBinaryAppended: Sendable, Equatable {
    /// Rows written.
    public var rows: Int
    /// UUID values that were not UUID text (written as the zero UUID).
    public var invalid: Int
    /// Per stream (one without routing), the bytes of `out` holding its rows, contiguous and in stream order.
    public var streamBytes: [Range<Int>]
    /// Per stream, its rows.
    public var streamRows: [Int]
}

extension RowBatch {
    /// Appends the rows to `out` in RowBinary: the `columns` in order, then `_version` (UInt64) and `_deleted`
    /// (UInt8). Tombstones are left out when `skipDeleted`. Returns the rows written and the UUID values that were not
    /// UUID text (written as the zero UUID).
    ///
    /// With `routing`, the appended bytes are the rows of stream 0 (in batch order), then those of stream 1, and so
    /// on (`streamBytes`): one encoding pass, each row at its stream's offset.
    ///
    /// Column by column over the rows (the row sizes first, then each column's values at their rows' offsets), so
    /// every loop reads one contiguous buffer and nothing is allocated per value.
    @discardableResult
    public func appendRowBinary(to out: inout [UInt8], columns plan: [RowBinaryColumn],
                                skipDeleted: Bool, routing: RowBinaryRouting? = nil) -> RowBinaryAppended {
        let streams = routing?.streams ?? 1
        if skipDeleted && deleted.any {
            let kept = (0..<count).filter { !deleted[$0] }
            return gathered(kept).appendRowBinary(to: &out, columns: plan, skipDeleted: false, routing: routing)
        }
        let n = count
        guard n > 0 else {
            return RowBinaryAppended(rows: 0, invalid: 0, streamBytes: Array(repeating: out.count..<out.count, count: streams),
                                     streamRows: Array(repeating: 0, count: streams))
        }
        // missing[c]: per row, no value to write (NULL, unchanged, or no source column).
        let missing: [[UInt64]] = plan.map { c in
            guard let s = c.source else { return [UInt64](repeating: ~0, count: (n + 63) / 64) }
            let a = buffers[s].nulls.words, b = buffers[s].unchanged.words
            return (0..<(n + 63) / 64).map { i in (i < a.count ? a[i] : 0) | (i < b.count ? b[i] : 0) }
        }
        @inline(__always) func isMissing(_ w: UnsafeBufferPointer<UInt64>, _ r: Int) -> Bool {
            w[r >> 6] & (1 << UInt64(r & 63)) != 0
        }
        var pos = [Int](repeating: 0, count: n)
        var ends: [Int] = [], streamRows: [Int] = []
        var fixed = 9   // _version, _deleted
        var invalid = 0
        pos.withUnsafeMutableBufferPointer { size in
            for (c, col) in plan.enumerated() {
                if col.nullable { fixed += 1 }
                missing[c].withUnsafeBufferPointer { m in
                    if let w = col.field.width {
                        if !col.nullable { fixed += w; return }
                        for r in 0..<n where !isMissing(m, r) { size[r] += w }
                    } else if let s = col.source {
                        buffers[s].ends.withUnsafeBufferPointer { ends in
                            for r in 0..<n {
                                if isMissing(m, r) { if !col.nullable { size[r] += 1 }; continue }
                                let len = ends[r] - (r == 0 ? 0 : ends[r - 1])
                                size[r] += Self.varintLength(len) + len
                            }
                        }
                    } else if !col.nullable {
                        fixed += 1
                    }
                }
            }
            var total = 0
            if let routing, streams > 1 {
                let stream = (0..<n).map { UInt8(truncatingIfNeeded: routing.stream(of: self, row: $0)) }
                for s in 0..<streams {
                    var rows = 0
                    for r in 0..<n where Int(stream[r]) == s { let z = size[r] + fixed; size[r] = total; total += z; rows += 1 }
                    ends.append(total)
                    streamRows.append(rows)
                }
            } else {
                for r in 0..<n { let s = size[r] + fixed; size[r] = total; total += s }
                ends.append(total)
                streamRows.append(n)
            }
            fixed = total
        }
        let base = out.count
        out.append(contentsOf: repeatElement(0, count: fixed))   // zeros: missing values need no write
        out.withUnsafeMutableBytes { raw in
            let p = raw.baseAddress! + base
            pos.withUnsafeMutableBufferPointer { at in
                for (c, col) in plan.enumerated() {
                    missing[c].withUnsafeBufferPointer { m in
                        invalid += writeColumn(col, missing: m, to: p, at: at)
                    }
                }
                versions.withUnsafeBufferPointer { v in
                    for r in 0..<n {
                        (p + at[r]).storeBytes(of: v[r].littleEndian, as: UInt64.self)
                        p.storeBytes(of: deleted[r] ? 1 : 0, toByteOffset: at[r] + 8, as: UInt8.self)
                    }
                }
            }
        }
        let bytes = (0..<ends.count).map { s in base + (s == 0 ? 0 : ends[s - 1])..<base + ends[s] }
        return RowBinaryAppended(rows: n, invalid: invalid, streamBytes: bytes, streamRows: streamRows)
    }

    /// Writes one column's values at each row's offset and moves the offsets past them; returns invalid UUIDs.
    private func writeColumn(_ col: RowBinaryColumn, missing m: UnsafeBufferPointer<UInt64>,
                             to p: UnsafeMutableRawPointer, at: UnsafeMutableBufferPointer<Int>) -> Int {
        let n = count
        @inline(__always) func isMissing(_ r: Int) -> Bool { m[r >> 6] & (1 << UInt64(r & 63)) != 0 }
        /// The place of row r's value after its null byte, or nil when the value is missing (offset moved).
        @inline(__always) func slot(_ r: Int, _ width: Int) -> UnsafeMutableRawPointer? {
            if isMissing(r) {
                if col.nullable { p.storeBytes(of: 1, toByteOffset: at[r], as: UInt8.self); at[r] += 1 } else { at[r] += width }
                return nil
            }
            let q = p + at[r] + (col.nullable ? 1 : 0)
            at[r] += width + (col.nullable ? 1 : 0)
            return q
        }
        guard let s = col.source else {
            for r in 0..<n { _ = slot(r, col.field.width ?? 1) }
            return 0
        }
        let b = buffers[s]
        var invalid = 0
        switch col.field {
        case let .int(width):
            b.ints.withUnsafeBufferPointer { v in
                for r in 0..<n {
                    guard let q = slot(r, width) else { continue }
                    switch width {
                    case 1: q.storeBytes(of: UInt8(truncatingIfNeeded: v[r]), as: UInt8.self)
                    case 2: q.storeBytes(of: Int16(truncatingIfNeeded: v[r]).littleEndian, as: Int16.self)
                    case 4: q.storeBytes(of: Int32(truncatingIfNeeded: v[r]).littleEndian, as: Int32.self)
                    default: q.storeBytes(of: v[r].littleEndian, as: Int64.self)
                    }
                }
            }
        case .float32:
            b.doubles.withUnsafeBufferPointer { v in
                for r in 0..<n { if let q = slot(r, 4) { q.storeBytes(of: Float(v[r]).bitPattern.littleEndian, as: UInt32.self) } }
            }
        case .float64:
            b.doubles.withUnsafeBufferPointer { v in
                for r in 0..<n { if let q = slot(r, 8) { q.storeBytes(of: v[r].bitPattern.littleEndian, as: UInt64.self) } }
            }
        case .int128:
            b.wides.withUnsafeBufferPointer { v in
                for r in 0..<n {
                    guard let q = slot(r, 16) else { continue }
                    q.storeBytes(of: UInt64(truncatingIfNeeded: v[r]).littleEndian, as: UInt64.self)
                    q.storeBytes(of: UInt64(truncatingIfNeeded: v[r] >> 64).littleEndian, toByteOffset: 8, as: UInt64.self)
                }
            }
        case .string:
            b.arena.withUnsafeBytes { arena in
                b.ends.withUnsafeBufferPointer { ends in
                    for r in 0..<n {
                        if isMissing(r) {
                            if col.nullable { p.storeBytes(of: 1, toByteOffset: at[r], as: UInt8.self) }
                            at[r] += 1
                            continue
                        }
                        if col.nullable { at[r] += 1 }
                        let start = r == 0 ? 0 : ends[r - 1], len = ends[r] - start
                        var v = UInt64(len), q = p + at[r]
                        while v >= 0x80 { q.storeBytes(of: UInt8(v & 0x7F) | 0x80, as: UInt8.self); q += 1; v >>= 7 }
                        q.storeBytes(of: UInt8(v), as: UInt8.self)
                        q += 1
                        if len > 0 { q.copyMemory(from: arena.baseAddress! + start, byteCount: len) }
                        at[r] = q - p + len
                    }
                }
            }
        case .uuid:
            b.arena.withUnsafeBytes { arena in
                b.ends.withUnsafeBufferPointer { ends in
                    for r in 0..<n {
                        guard let q = slot(r, 16) else { continue }
                        let start = r == 0 ? 0 : ends[r - 1]
                        if let (hi, lo) = Self.parseUUID(UnsafeRawBufferPointer(rebasing: arena[start..<ends[r]])) {
                            q.storeBytes(of: hi.littleEndian, as: UInt64.self)
                            q.storeBytes(of: lo.littleEndian, toByteOffset: 8, as: UInt64.self)
                        } else {
                            invalid += 1
                        }
                    }
                }
            }
        }
        return invalid
    }

    /// The two halves of a UUID's text (32 hex digits, hyphens anywhere ignored), or nil when it is not one.
    static func parseUUID(_ text: UnsafeRawBufferPointer) -> (UInt64, UInt64)? {
        var hi: UInt64 = 0, lo: UInt64 = 0, digits = 0
        for ch in text {
            let d: UInt8
            switch ch {
            case UInt8(ascii: "0")...UInt8(ascii: "9"): d = ch - UInt8(ascii: "0")
            case UInt8(ascii: "a")...UInt8(ascii: "f"): d = ch - UInt8(ascii: "a") + 10
            case UInt8(ascii: "A")...UInt8(ascii: "F"): d = ch - UInt8(ascii: "A") + 10
            case UInt8(ascii: "-"): continue
            default: return nil
            }
            if digits < 16 { hi = hi << 4 | UInt64(d) } else if digits < 32 { lo = lo << 4 | UInt64(d) } else { return nil }
            digits += 1
        }
        return digits == 32 ? (hi, lo) : nil
    }

    @inline(__always)
    static func varintLength(_ v: Int) -> Int {
        var v = UInt64(v), n = 1
        while v >= 0x80 { v >>= 7; n += 1 }
        return n
    }
}
