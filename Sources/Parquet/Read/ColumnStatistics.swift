/// A min or max statistic value, in the column's storage form (`ColumnType.storage`).
public enum StatisticsValue: Sendable, Hashable {
    case boolean(Bool)
    case int32(Int32)
    case int64(Int64)
    case float(Float)
    case double(Double)
    /// Strings, JSON, bytes (raw bytes); UUID, fixed and wide decimals (big-endian bytes).
    case bytes([UInt8])
}

/// Statistics of one column chunk, as stored in the file.
public struct ColumnStatistics: Sendable, Hashable {
    /// Number of nulls, when the writer recorded it.
    public var nullCount: Int64?
    /// Smallest non-null (non-NaN) value in the column's sort order, when recorded.
    public var min: StatisticsValue?
    /// Largest non-null (non-NaN) value, when recorded.
    public var max: StatisticsValue?
}

/// Metadata of one column chunk within a row group.
public struct ColumnChunkInfo: Sendable, Hashable {
    /// Values (including nulls) in the chunk.
    public var valueCount: Int64
    /// Bytes in the file (pages and headers).
    public var compressedSize: Int64
    /// Bytes before compression.
    public var uncompressedSize: Int64
    /// Parquet codec id (0 UNCOMPRESSED, 7 LZ4_RAW, …).
    public var codec: Int32
    /// Statistics, when the writer stored them.
    public var statistics: ColumnStatistics?
}

/// Metadata of one row group: row count and per-column chunk info (index = schema column index), enough to
/// skip row groups by their statistics before reading any page.
public struct RowGroupInfo: Sendable, Hashable {
    public var rowCount: Int64
    public var columns: [ColumnChunkInfo]
}

enum StatisticsConversion {
    /// Decodes PLAIN min/max bytes into a value of the column's storage (nil when malformed).
    static func value(_ bytes: [UInt8], physical: PhysicalType, type: ColumnType, time: TimeConversion) -> StatisticsValue? {
        func le(_ n: Int) -> UInt64? {
            guard bytes.count == n else { return nil }
            var v: UInt64 = 0
            for i in 0..<n { v |= UInt64(bytes[i]) << (8 * UInt64(i)) }
            return v
        }
        let storage = type.storage
        switch physical {
        case .boolean: return bytes.count == 1 ? .boolean(bytes[0] != 0) : nil
        case .int32:
            guard let v = le(4) else { return nil }
            let i = Int32(truncatingIfNeeded: v)
            return storage == .int64 ? .int64(Int64(i)) : .int32(i)
        case .int64:
            guard let v = le(8), let i = time.micros(Int64(bitPattern: v)) else { return nil }
            if storage == .int32 { return Int32(exactly: i).map { .int32($0) } }
            return .int64(i)
        case .float: return le(4).map { .float(Float(bitPattern: UInt32($0))) }
        case .double: return le(8).map { .double(Double(bitPattern: $0)) }
        case .int96: return nil  // INT96 has no defined sort order
        case .byteArray: return .bytes(bytes)
        case .fixedLenByteArray:
            switch storage {
            case .int64: return DecimalConversion.bigEndianToInt64(bytes[...]).map { .int64($0) }
            case .int32: return DecimalConversion.bigEndianToInt64(bytes[...]).flatMap { Int32(exactly: $0) }.map { .int32($0) }
            default: return .bytes(bytes)
            }
        }
    }
}
