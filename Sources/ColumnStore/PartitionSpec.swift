import Foundation

/// Calendar unit of a time-bucket partitioning.
public enum TimeBucket: String, Sendable, Hashable, Codable { case day, month, year }

/// How a table's rows are spread over partitions (directories of parts that merge among themselves).
///
/// Partitions derived from the key (`keyHash`, or `value`/`time` of a key column) hold every version of a key.
/// Otherwise a row can move between partitions and a tombstone (key only) lands in partition `null`, so the FINAL
/// reader dedups across partitions and merges may drop tombstones only when they cover the whole table.
public enum PartitionSpec: Sendable, Hashable {
    /// One partition, `all`.
    case none
    /// One partition per value of `column` (e.g. a tenant id).
    case value(column: String)
    /// One partition per day / month / year of a date, timestamp or timestamptz column.
    case time(column: String, bucket: TimeBucket)
    /// Hash of the key into `buckets` partitions (the default, always safe).
    case keyHash(buckets: Int)

    /// The store's default when a caller names none: hash of the key into 8 buckets. (The replicator names one for
    /// every table: `TablePlanner.partitioning`, one bucket per ~1 GiB of table, 1…64.)
    public static let `default` = PartitionSpec.keyHash(buckets: 8)

    /// The partitioning column, if any.
    public var column: String? {
        switch self {
        case let .value(c), let .time(c, _): return c
        case .none, .keyHash: return nil
        }
    }

    /// True when every version of a key (tombstones included) always lands in the same partition.
    public func isDerivedFromKey(_ keyColumns: [String]) -> Bool {
        guard let c = column else { return true }
        return keyColumns.contains(c)
    }

    func validate(_ schema: TableSchema, table: String) throws {
        switch self {
        case .none: return
        case let .keyHash(n):
            if n < 1 || n > 4096 { throw StoreError.invalidSchema(table: table, reason: "hash buckets must be 1…4096") }
        case let .value(c):
            guard schema.index(of: c) != nil else { throw StoreError.unknownColumn(table: table, column: c) }
        case let .time(c, _):
            guard let i = schema.index(of: c) else { throw StoreError.unknownColumn(table: table, column: c) }
            switch schema.columns[i].type {
            case .date, .timestamp, .timestamptz: return
            default: throw StoreError.invalidSchema(table: table, reason: "time partition column \(c) is not a date or timestamp")
            }
        }
    }

    /// Directory name of the partition of `row` (`columnIndex` = index of the partitioning column in `batch`):
    /// `all`, `h=NNN`, `v=` + the escaped value (cut and hashed past 240 bytes, `BoundedName`), a day / month / year
    /// (`2024-05-01`, `2024-05`, `2024`; BC and 5-digit years as `ValueText` prints them), `infinity`, `-infinity`,
    /// or `null`.
    func partition(of batch: RowBatch, row: Int, columnIndex: Int?, keyIndexes: [Int]) -> String {
        switch self {
        case .none: return "all"
        case let .keyHash(n):
            return PartitionSpec.keyHashName(Int(PartitionSpec.hashKey(batch, row, keyIndexes) % UInt64(n)))
        case .value:
            guard let c = columnIndex, !batch.isNull(row, c), !batch.isUnchanged(row, c),
                  let text = ValueText.render(batch, row, c) else { return "null" }
            return BoundedName.bounded("v=" + PartitionSpec.escape(text), identity: text)
        case let .time(_, bucket):
            guard let c = columnIndex, !batch.isNull(row, c), !batch.isUnchanged(row, c) else { return "null" }
            let v = batch.int64(row, c)
            let isDate = batch.columns[c].type == .date
            // ±infinity get partitions of their own (and a day count of them would overflow).
            if v == (isDate ? ValueText.dateInfinity : ValueText.timestampInfinity) { return "infinity" }
            if v == (isDate ? ValueText.dateNegativeInfinity : ValueText.timestampNegativeInfinity) { return "-infinity" }
            let days: Int64
            if isDate { days = v } else {
                let perDay: Int64 = 86_400_000_000
                let (q, r) = v.quotientAndRemainder(dividingBy: perDay)
                days = r < 0 ? q - 1 : q
            }
            return PartitionSpec.bucketName(days: days, bucket)
        }
    }

    /// Directory name of hash bucket `bucket` of a `keyHash` partitioning.
    static func keyHashName(_ bucket: Int) -> String { "h=" + ValueText.pad(Int64(bucket), 3) }

    /// The rows of `batch` grouped by partition name (row indexes in batch order).
    func rowsByPartition(_ batch: RowBatch, columnIndex: Int?, keyIndexes: [Int]) -> [String: [Int]] {
        guard case let .keyHash(n) = self else {
            var out = [String: [Int]]()
            for r in 0..<batch.count {
                out[partition(of: batch, row: r, columnIndex: columnIndex, keyIndexes: keyIndexes), default: []].append(r)
            }
            return out
        }
        // Hash buckets by number, named once per bucket (not a String per row); one bucket needs no hashing at all.
        if n == 1 { return batch.count == 0 ? [:] : [PartitionSpec.keyHashName(0): Array(0..<batch.count)] }
        var buckets = [[Int]](repeating: [], count: n)
        for r in 0..<batch.count { buckets[Int(PartitionSpec.hashKey(batch, r, keyIndexes) % UInt64(n))].append(r) }
        var out = [String: [Int]]()
        for (i, rows) in buckets.enumerated() where !rows.isEmpty { out[PartitionSpec.keyHashName(i)] = rows }
        return out
    }

    /// True for `YYYY`, `YYYY-MM` and `YYYY-MM-DD` of years 1…9999: the time buckets whose names sort as their times.
    static func isPlainTimeBucket(_ name: String) -> Bool {
        let u = Array(name.utf8)
        guard u.count == 4 || u.count == 7 || u.count == 10 else { return false }
        for (i, b) in u.enumerated() {
            if i == 4 || i == 7 { guard b == UInt8(ascii: "-") else { return false } } else {
                guard b >= UInt8(ascii: "0"), b <= UInt8(ascii: "9") else { return false }
            }
        }
        return name.prefix(4) != "0000"
    }

    static func bucketName(days: Int64, _ bucket: TimeBucket) -> String {
        let (y, m, _) = ValueText.civil(days: days)
        switch bucket {
        case .day: return ValueText.date(days)
        case .month: return "\(ValueText.pad(y, 4))-\(ValueText.pad(m, 2))"
        case .year: return ValueText.pad(y, 4)
        }
    }

    /// FNV-1a over the key values' stored bytes: stable across processes and versions of the store.
    static func hashKey(_ batch: RowBatch, _ row: Int, _ keys: [Int]) -> UInt64 {
        var h: UInt64 = 0xcbf2_9ce4_8422_2325
        @inline(__always) func mix(_ b: UInt8) { h = (h ^ UInt64(b)) &* 0x100_0000_01b3 }
        for k in keys {
            if batch.buffers[k].nulls[row] { mix(0); continue }
            switch batch.buffers[k].storage {
            case .int64: withUnsafeBytes(of: batch.buffers[k].ints[row].littleEndian) { for b in $0 { mix(b) } }
            case .double: withUnsafeBytes(of: batch.buffers[k].doubles[row].bitPattern.littleEndian) { for b in $0 { mix(b) } }
            case .int128: withUnsafeBytes(of: batch.buffers[k].wides[row].littleEndian) { for b in $0 { mix(b) } }
            case .bytes: for b in batch.buffers[k].arena[batch.buffers[k].range(row)] { mix(b) }
            }
            mix(0xff)
        }
        return h
    }

    /// Percent-escapes everything but [A-Za-z0-9_-] so any value is a safe directory name.
    static func escape(_ s: String) -> String {
        var out = ""
        for b in s.utf8 {
            switch b {
            case UInt8(ascii: "a")...UInt8(ascii: "z"), UInt8(ascii: "A")...UInt8(ascii: "Z"),
                 UInt8(ascii: "0")...UInt8(ascii: "9"), UInt8(ascii: "_"), UInt8(ascii: "-"):
                out.unicodeScalars.append(UnicodeScalar(b))
            default:
                out += "%" + (b < 16 ? "0" : "") + String(b, radix: 16, uppercase: true)
            }
        }
        return out
    }
}

extension PartitionSpec: Codable {
    private enum Keys: String, CodingKey { case kind, column, bucket, buckets }
    public init(from decoder: Decoder) throws {
        let c = try decoder.container(keyedBy: Keys.self)
        switch try c.decode(String.self, forKey: .kind) {
        case "none": self = .none
        case "value": self = .value(column: try c.decode(String.self, forKey: .column))
        case "time": self = .time(column: try c.decode(String.self, forKey: .column),
                                  bucket: try c.decode(TimeBucket.self, forKey: .bucket))
        case "hash": self = .keyHash(buckets: try c.decode(Int.self, forKey: .buckets))
        case let k: throw DecodingError.dataCorruptedError(forKey: .kind, in: c, debugDescription: "unknown partitioning \(k)")
        }
    }
    public func encode(to encoder: Encoder) throws {
        var c = encoder.container(keyedBy: Keys.self)
        switch self {
        case .none: try c.encode("none", forKey: .kind)
        case let .value(col): try c.encode("value", forKey: .kind); try c.encode(col, forKey: .column)
        case let .time(col, b):
            try c.encode("time", forKey: .kind); try c.encode(col, forKey: .column); try c.encode(b, forKey: .bucket)
        case let .keyHash(n): try c.encode("hash", forKey: .kind); try c.encode(n, forKey: .buckets)
        }
    }
}
