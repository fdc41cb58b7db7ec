import ColumnStore
import Foundation

/// Writes store rows in ClickHouse's RowBinary format: per row, each column's value (a `Nullable` column first
/// writes one byte, 1 for NULL), then `_version` (UInt64) and `_deleted` (UInt8).
///
/// A tombstone carries only its key: its other columns are written as NULL, or as the type's zero when the column
/// is not Nullable. An unchanged (TOAST) marker never gets here (`ChangeReader` resolves them from older versions);
/// one that could not be resolved is written like NULL.
struct RowBinaryEncoder {
    private(set) var bytes: [UInt8] = []
    private(set) var rows = 0

    init(reserve: Int = 1 << 20) { bytes.reserveCapacity(reserve) }

    mutating func reset() { bytes.removeAll(keepingCapacity: true); rows = 0 }

    /// Appends every row of `batch`; `sources[i]` is the batch column of `columns[i]` (nil: not in the batch, NULL).
    /// Tombstones are skipped when `skipDeleted` (a new copy needs no deletes).
    mutating func append(_ batch: RowBatch, columns: [ClickHouseColumn], sources: [Int?], skipDeleted: Bool) {
        for row in 0..<batch.count {
            let deleted = batch.isDeleted(row)
            if deleted && skipDeleted { continue }
            for (i, c) in columns.enumerated() {
                let s = sources[i]
                let missing = s == nil || batch.isNull(row, s!) || batch.isUnchanged(row, s!)
                if c.nullable {
                    bytes.append(missing ? 1 : 0)
                    if missing { continue }
                }
                guard let s, !missing else { appendZero(c.encoding); continue }
                switch c.encoding {
                case let .int(n): appendInt(batch.int64(row, s), bytes: n)
                case .float32: appendInt(Int64(Float(batch.double(row, s)).bitPattern), bytes: 4)
                case .float64: appendInt(Int64(bitPattern: batch.double(row, s).bitPattern), bytes: 8)
                case .int128:
                    let v = batch.int128(row, s)
                    appendInt(Int64(truncatingIfNeeded: v), bytes: 8)
                    appendInt(Int64(truncatingIfNeeded: v >> 64), bytes: 8)
                case .string:
                    let value = batch.bytes(row, s)
                    appendVarint(UInt64(value.count))
                    bytes.append(contentsOf: value)
                }
            }
            appendInt(Int64(bitPattern: batch.versions[row]), bytes: 8)
            bytes.append(deleted ? 1 : 0)
            rows += 1
        }
    }

    private mutating func appendZero(_ e: ClickHouseColumn.Encoding) {
        switch e {
        case let .int(n): appendInt(0, bytes: n)
        case .float32: appendInt(0, bytes: 4)
        case .float64: appendInt(0, bytes: 8)
        case .int128: appendInt(0, bytes: 16 / 2); appendInt(0, bytes: 8)
        case .string: bytes.append(0)
        }
    }

    @inline(__always)
    private mutating func appendInt(_ v: Int64, bytes n: Int) {
        var u = UInt64(bitPattern: v)
        for _ in 0..<n { bytes.append(UInt8(truncatingIfNeeded: u)); u >>= 8 }
    }

    private mutating func appendVarint(_ v: UInt64) {
        var v = v
        while v >= 0x80 { bytes.append(UInt8(v & 0x7F) | 0x80); v >>= 7 }
        bytes.append(UInt8(v))
    }
}
