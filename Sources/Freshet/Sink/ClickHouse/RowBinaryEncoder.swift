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
        // Per-column facts hoisted out of the row loop (copying a ClickHouseColumn per value retains its strings).
        let encodings = columns.map(\.encoding)
        let nullable = columns.map(\.nullable)
        let source = sources.map { $0 ?? -1 }
        for row in 0..<batch.count {
            let deleted = batch.isDeleted(row)
            if deleted && skipDeleted { continue }
            for i in 0..<encodings.count {
                let s = source[i]
                let missing = s < 0 || batch.isNull(row, s) || batch.isUnchanged(row, s)
                if nullable[i] {
                    bytes.append(missing ? 1 : 0)
                    if missing { continue }
                }
                guard !missing else { appendZero(encodings[i]); continue }
                switch encodings[i] {
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
        case .int128: appendInt(0, bytes: 8); appendInt(0, bytes: 8)
        case .string: bytes.append(0)
        }
    }

    /// The low `n` bytes of `v`, little endian.
    @inline(__always)
    private mutating func appendInt(_ v: Int64, bytes n: Int) {
        withUnsafeBytes(of: v.littleEndian) { bytes.append(contentsOf: UnsafeRawBufferPointer(rebasing: $0[0..<n])) }
    }

    private mutating func appendVarint(_ v: UInt64) {
        var v = v
        while v >= 0x80 { bytes.append(UInt8(v & 0x7F) | 0x80); v >>= 7 }
        bytes.append(UInt8(v))
    }
}
