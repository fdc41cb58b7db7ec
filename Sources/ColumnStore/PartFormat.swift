import Foundation
import Parquet

/// The seam between the store and the part file format (Parquet): write sorted rows, read them back by row group.
///
/// A part file holds the table's columns (all optional: tombstones and unchanged values are NULL there), then
/// `_version` INT64 (required; the UInt64 bit pattern), `_deleted` BOOLEAN (required) and `_unchanged` STRING
/// (optional: `,colA,colB,` naming the columns an UPDATE left unchanged, NULL when none).
enum PartFormat {
    static let fileExtension = "parquet"
    static let internalColumns: [Parquet.Column] = [
        .init("_version", .int64, nullable: false), .init("_deleted", .boolean, nullable: false),
        .init("_unchanged", .string, nullable: true),
    ]

    /// The Parquet type of a store column type.
    static func parquetType(_ t: StoreType) -> ColumnType {
        switch t {
        case .bool: return .boolean
        case .int16: return .int16
        case .int32: return .int32
        case .int64: return .int64
        case .float32: return .float
        case .float64: return .double
        case let .decimal(p, s): return .decimal(precision: p, scale: s)
        case .string: return .string
        case .bytes: return .bytes
        case .date: return .date
        case .timestamp: return .timestamp(utc: false)
        case .timestamptz: return .timestamp(utc: true)
        }
    }

    /// The store type of a Parquet column (nil for types the store never writes).
    static func storeType(_ t: ColumnType) -> StoreType? {
        switch t {
        case .boolean: return .bool
        case .int16: return .int16
        case .int32: return .int32
        case .int64: return .int64
        case .float: return .float32
        case .double: return .float64
        case let .decimal(p, s): return .decimal(precision: p, scale: s)
        case .string, .json, .uuid: return .string
        case .bytes, .fixed: return .bytes
        case .date: return .date
        case let .timestamp(utc): return utc ? .timestamptz : .timestamp
        }
    }
}

/// Writes one part file through `ParquetFileWriter` (temp file, fsync, rename, fsync directory on `finish`).
struct PartFileWriter {
    private let writer: ParquetFileWriter
    private let columns: [ColumnDefinition]

    init(url: URL, columns: [ColumnDefinition], rowGroupRows: Int, metadata: [(key: String, value: String)],
         durable: Bool = true, dictionaryMemory: DictionaryMemory? = nil) throws {
        var opts = WriterOptions()
        opts.dictionaryMemory = dictionaryMemory
        opts.durable = durable
        opts.rowGroupRows = rowGroupRows
        opts.keyValueMetadata = metadata
        opts.compression = .lz4Raw
        let schema = Schema(columns.map { Parquet.Column($0.name, PartFormat.parquetType($0.type), nullable: true) }
                            + PartFormat.internalColumns)
        self.columns = columns
        do { writer = try ParquetFileWriter(path: url.path, schema: schema, options: opts) } catch {
            throw StoreError.part(error, path: url.path, operation: "create part")
        }
    }

    /// Appends sorted rows.
    /// Ends the current row group (the part writer sizes row groups itself: see `PartWriter`).
    func endRowGroup() throws {
        do { try writer.flushRowGroup() } catch {
            throw StoreError.part(error, path: writer.path, operation: "write part")
        }
    }

    func write(_ batch: RowBatch) throws {
        try write(buffers(batch), rows: nil)
    }

    /// Writes rows `rows` (all when nil) of `buffers`, as made by `buffers(_:)`.
    func write(_ buffers: [ColumnBuffer], rows: Range<Int>?) throws {
        do { try writer.write(buffers, rows: rows) } catch {
            throw StoreError.part(error, path: writer.path, operation: "write part")
        }
    }

    /// The Parquet column buffers of `batch`: its columns, then `_version`, `_deleted` and `_unchanged`. Fixed-width
    /// int64 columns and byte arenas are shared with the batch, not copied.
    func buffers(_ batch: RowBatch) -> [ColumnBuffer] {
        var out = [ColumnBuffer]()
        out.reserveCapacity(columns.count + 3)
        for (i, c) in columns.enumerated() { out.append(PartFileWriter.buffer(batch.buffers[i], c.type)) }
        out.append(ColumnBuffer(.int64(batch.versions.map { Int64(bitPattern: $0) })))
        out.append(ColumnBuffer(.boolean((0..<batch.count).map { batch.deleted[$0] })))
        var marks = ByteArrayBuffer(reservingCapacity: batch.count)
        var valid = [Bool](repeating: false, count: batch.count)
        if batch.hasUnchanged {
            for r in 0..<batch.count {
                var s = ""
                for (i, c) in columns.enumerated() where batch.buffers[i].unchanged[r] { s += "," + c.name }
                if s.isEmpty { marks.appendEmpty() } else { marks.append(s + ","); valid[r] = true }
            }
        } else {
            for _ in 0..<batch.count { marks.appendEmpty() }
        }
        out.append(ColumnBuffer(.byteArray(marks), validity: valid))
        return out
    }

    static func buffer(_ b: BatchColumn, _ type: StoreType) -> ColumnBuffer {
        let values: ColumnValues
        switch type {
        case .bool: values = .boolean(b.ints.map { $0 != 0 })
        case .int16, .int32, .date: values = .int32(b.ints.map { Int32(truncatingIfNeeded: $0) })
        case let .decimal(p, _) where p <= 9: values = .int32(b.ints.map { Int32(truncatingIfNeeded: $0) })
        case let .decimal(p, _) where p > 18:
            var f = FixedBuffer(width: ColumnType.decimalByteWidth(precision: p), reservingCapacity: b.wides.count)
            for v in b.wides { f.appendDecimal(high: Int64(truncatingIfNeeded: v >> 64), low: UInt64(truncatingIfNeeded: v)) }
            values = .fixed(f)
        case .int64, .timestamp, .timestamptz, .decimal: values = .int64(b.ints)
        case .float32: values = .float(b.doubles.map { Float($0) })
        case .float64: values = .double(b.doubles)
        case .string, .bytes:
            var a = ByteArrayBuffer()
            a.bytes = b.arena
            a.offsets = [0] + b.ends
            values = .byteArray(a)
        }
        let anyMissing = b.nulls.any || b.unchanged.any
        let validity = anyMissing ? (0..<b.count).map { !b.nulls[$0] && !b.unchanged[$0] } : nil
        return ColumnBuffer(values, validity: validity)
    }

    /// Finishes the file; returns its size and checksum.
    func finish() throws -> (bytes: Int, checksum: String) {
        do {
            let f = try writer.close()
            return (Int(f.byteCount), PartFileWriter.checksumText(f.crc32))
        } catch {
            throw StoreError.part(error, path: writer.path, operation: "finish part")
        }
    }

    func abort() { writer.abort() }

    static func checksumText(_ crc: UInt32) -> String {
        let hex = String(crc, radix: 16)
        return "crc32:" + String(repeating: "0", count: 8 - hex.count) + hex
    }

    /// `crc32:…` and size of a file on disk.
    static func checksum(of url: URL) throws -> (checksum: String, bytes: Int) {
        let (crc, n) = try CRC32.ofFile(atPath: url.path)
        return (checksumText(crc), Int(n))
    }
}

/// Reads a part file row group by row group into `RowBatch`es.
struct PartFileReader: Sendable {
    private let reader: ParquetFileReader
    /// The table columns in the file (no internal columns), with their file column indexes.
    let columns: [ColumnDefinition]
    private let fileIndex: [Int]
    private let versionIndex: Int, deletedIndex: Int, unchangedIndex: Int?

    init(url: URL, table: String) throws {
        func bad(_ why: String) -> StoreError { .corruptPart(table: table, path: url.path, reason: why) }
        do { reader = try ParquetFileReader(path: url.path) } catch { throw bad("\(error)") }
        var cols = [ColumnDefinition](), idx = [Int]()
        for (i, c) in reader.schema.columns.enumerated() where !TableSchema.reservedNames.contains(c.name) {
            guard let t = PartFormat.storeType(c.type) else { throw bad("unsupported column \(c.name)") }
            cols.append(ColumnDefinition(c.name, t, nullable: c.nullable))
            idx.append(i)
        }
        guard let v = reader.schema.index(of: "_version"), let d = reader.schema.index(of: "_deleted") else {
            throw bad("no _version/_deleted columns")
        }
        columns = cols
        fileIndex = idx
        versionIndex = v
        deletedIndex = d
        unchangedIndex = reader.schema.index(of: "_unchanged")
        self.table = table
        self.path = url.path
    }
    private let table: String
    private let path: String

    var rowGroupCount: Int { reader.rowGroups.count }
    /// Rows the file's footer says it holds.
    var rowCount: Int { Int(reader.rowCount) }
    var metadata: [String: String] { reader.keyValueMetadata }

    /// Reads row group `index`, decoding only the table columns named in `wanted` (nil = all).
    func readRowGroup(_ index: Int, columns wanted: Set<String>?) throws -> RowBatch {
        let chosen = columns.indices.filter { wanted?.contains(columns[$0].name) ?? true }
        var fileCols = chosen.map { fileIndex[$0] } + [versionIndex, deletedIndex]
        if let u = unchangedIndex { fileCols.append(u) }
        let bufs: [ColumnBuffer]
        do { bufs = try reader.readRowGroup(index, columns: fileCols) } catch {
            throw StoreError.corruptPart(table: table, path: path, reason: "\(error)")
        }
        let rows = bufs[chosen.count].count
        guard case let .int64(versions) = bufs[chosen.count].values,
              case let .boolean(deletedFlags) = bufs[chosen.count + 1].values,
              bufs.allSatisfy({ $0.count == rows }) else {
            throw StoreError.corruptPart(table: table, path: path, reason: "row group \(index): bad internal columns")
        }
        var defs = [ColumnDefinition](), out = [BatchColumn]()
        for (k, ci) in chosen.enumerated() {
            defs.append(columns[ci])
            out.append(try convert(bufs[k], columns[ci].type, rows: rows))
        }
        // Unchanged markers: set the bit, clear NULL.
        var unchanged = [[Bool]](repeating: [], count: chosen.count)
        if let _ = unchangedIndex, case let .byteArray(marks) = bufs[chosen.count + 2].values {
            let m = bufs[chosen.count + 2]
            var position = [String: Int]()
            for (k, d) in defs.enumerated() { position[d.name] = k }
            for r in 0..<rows where !m.isNull(r) {
                for name in marks.string(at: r).split(separator: ",") {
                    guard let k = position[String(name)] else { continue }
                    if unchanged[k].isEmpty { unchanged[k] = [Bool](repeating: false, count: rows) }
                    unchanged[k][r] = true
                }
            }
        }
        for k in out.indices {
            var nulls = Bitmap(), marks = Bitmap()
            nulls.reserve(rows); marks.reserve(rows)
            let u = unchanged[k]
            let v = bufs[k]
            for r in 0..<rows {
                let isU = !u.isEmpty && u[r]
                marks.append(isU)
                nulls.append(!isU && v.isNull(r))
            }
            out[k].nulls = nulls
            out[k].unchanged = marks
        }
        var deleted = Bitmap()
        deleted.reserve(rows)
        for f in deletedFlags { deleted.append(f) }
        return RowBatch(columns: defs, buffers: out, versions: versions.map { UInt64(bitPattern: $0) }, deleted: deleted)
    }

    private func convert(_ b: ColumnBuffer, _ type: StoreType, rows: Int) throws -> BatchColumn {
        var out = BatchColumn(storage: type.storage)
        switch b.values {
        case let .boolean(v): out.ints = v.map { $0 ? 1 : 0 }
        case let .int32(v): out.ints = v.map { Int64($0) }
        case let .int64(v): out.ints = v
        case let .float(v): out.doubles = v.map { Double($0) }
        case let .double(v): out.doubles = v
        case let .byteArray(a):
            out.arena = a.bytes
            out.ends = Array(a.offsets.dropFirst())
            if a.offsets.first != 0 {
                let base = a.offsets[0]
                out.arena = Array(a.bytes[base...])
                out.ends = out.ends.map { $0 - base }
            }
        case let .fixed(f):
            if type.storage == .int128 {
                out.wides.reserveCapacity(rows)
                for i in 0..<f.count {
                    var v: Int128 = f[i].first.map { $0 & 0x80 != 0 ? -1 : 0 } ?? 0
                    for byte in f[i] { v = (v << 8) | Int128(byte) }
                    out.wides.append(v)
                }
            } else {
                var a = [UInt8](), ends = [Int]()
                for i in 0..<f.count { a.append(contentsOf: f[i]); ends.append(a.count) }
                out.arena = a
                out.ends = ends
            }
        }
        let n: Int
        switch type.storage {
        case .int64: n = out.ints.count
        case .double: n = out.doubles.count
        case .int128: n = out.wides.count
        case .bytes: n = out.ends.count
        }
        guard n == rows else { throw StoreError.corruptPart(table: table, path: path, reason: "column has \(n) values, expected \(rows)") }
        return out
    }
}

extension PartFileReader {
    /// False when row group `g`'s min/max statistics prove no row satisfies `p` (a predicate on a key column, so no
    /// version of a skipped key could match either). True when unsure.
    func rowGroup(_ g: Int, mayMatch p: BoundPredicate) -> Bool {
        guard let k = columns.firstIndex(where: { $0.name == p.predicate.column }),
              columns[k].type == p.literal.columns[0].type,
              let stats = statistics(g, k), let lo = stats.min, let hi = stats.max,
              let cLo = PartFileReader.compare(lo, p.literal), let cHi = PartFileReader.compare(hi, p.literal) else { return true }
        switch p.predicate.op {
        case .eq: return cLo <= 0 && cHi >= 0
        case .ne: return !(cLo == 0 && cHi == 0)
        case .lt: return cLo < 0
        case .le: return cLo <= 0
        case .gt: return cHi > 0
        case .ge: return cHi >= 0
        }
    }

    private func statistics(_ g: Int, _ k: Int) -> ColumnStatistics? {
        guard g < rowGroupCount, fileIndex[k] < reader.rowGroups[g].columns.count else { return nil }
        return reader.rowGroups[g].columns[fileIndex[k]].statistics
    }

    /// Sign of (statistics value − literal), nil when they are not comparable.
    static func compare(_ s: StatisticsValue, _ lit: RowBatch) -> Int? {
        func sign<T: Comparable>(_ a: T, _ b: T) -> Int { a == b ? 0 : (a < b ? -1 : 1) }
        switch (s, lit.columns[0].type.storage) {
        case let (.boolean(v), .int64): return sign(Int64(v ? 1 : 0), lit.int64(0, 0))
        case let (.int32(v), .int64): return sign(Int64(v), lit.int64(0, 0))
        case let (.int64(v), .int64): return sign(v, lit.int64(0, 0))
        case let (.float(v), .double): return sign(Double(v), lit.double(0, 0))
        case let (.double(v), .double): return sign(v, lit.double(0, 0))
        case let (.bytes(v), .bytes):
            let l = Array(lit.bytes(0, 0))
            return RowBatch.compareBytes(v, v.indices, l, l.indices)
        default: return nil
        }
    }
}

extension StoreError {
    /// A part writer's failure as a store error: an operating-system error keeps its errno (so the message reads
    /// e.g. "No space left on device"); anything else keeps the Parquet writer's own text.
    static func part(_ error: Error, path: String, operation: String) -> StoreError {
        if case let ParquetError.io(_, op, code)? = error as? ParquetError {
            return .io(path: path, operation: "\(operation) (\(op))", errno: code)
        }
        return .io(path: path, operation: "\(operation): \(error)", errno: 0)
    }
}
