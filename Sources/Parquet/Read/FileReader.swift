#if canImport(Glibc)
import Glibc
#elseif canImport(Musl)
import Musl
#elseif canImport(Darwin)
import Darwin
#endif

/// Reads a Parquet file with a flat schema: footer, schema, row-group statistics, and column chunks decoded
/// into `ColumnBuffer`s. Reads use `pread`, so one reader may be used from several threads.
///
/// Reads files written by `ParquetFileWriter` and by other writers (pyarrow, DuckDB…) for the supported types:
/// v1/v2 data pages, PLAIN, PLAIN_DICTIONARY/RLE_DICTIONARY (with fallback), RLE booleans, DELTA_BINARY_PACKED,
/// DELTA_LENGTH_BYTE_ARRAY, DELTA_BYTE_ARRAY, BYTE_STREAM_SPLIT; UNCOMPRESSED, LZ4_RAW and LZ4 (Hadoop) codecs.
/// Corrupt input throws `ParquetError`.
public final class ParquetFileReader: @unchecked Sendable {
    /// Path of the file.
    public let path: String
    /// The file's columns.
    public let schema: Schema
    /// Total rows.
    public let rowCount: Int64
    /// Row groups with per-column statistics.
    public let rowGroups: [RowGroupInfo]
    /// Footer key/value metadata.
    public let keyValueMetadata: [String: String]
    /// The footer's `created_by`.
    public let createdBy: String?
    /// File size in bytes.
    public let fileSize: Int64

    private let fd: Int32
    private let metadata: FileMetaData
    private let leaves: [SchemaElement]
    private let footerStart: Int64

    /// Opens `path` and parses its footer and schema.
    public init(path: String) throws {
        self.path = path
        let fd = open(path, O_RDONLY | O_CLOEXEC)
        guard fd >= 0 else { throw ParquetError.io(path: path, operation: "open", errno: errno) }
        do {
            var st = stat()
            guard fstat(fd, &st) == 0 else { throw ParquetError.io(path: path, operation: "fstat", errno: errno) }
            let size = Int64(st.st_size)
            guard size >= 12 else { throw ParquetError.badMagic(path: path) }
            let tail = try ParquetFileReader.pread(fd, path: path, offset: size - 8, count: 8)
            let head = try ParquetFileReader.pread(fd, path: path, offset: 0, count: 4)
            guard Array(tail[4..<8]) == Magic.bytes, head == Magic.bytes else { throw ParquetError.badMagic(path: path) }
            let len = Int64(tail[0]) | Int64(tail[1]) << 8 | Int64(tail[2]) << 16 | Int64(tail[3]) << 24
            guard len > 0, len <= size - 12 else { throw ParquetError.badFooterLength(path: path, length: len, fileSize: size) }
            let footerStart = size - 8 - len
            let footer = try ParquetFileReader.pread(fd, path: path, offset: footerStart, count: Int(len))
            var d = CompactDecoder(footer)
            let meta: FileMetaData
            do { meta = try FileMetaData(from: &d) } catch let e as DecodeError {
                throw ParquetError.corruptMetadata(path: path, offset: Int(footerStart) + e.offset, reason: e.reason)
            }
            let (schema, leaves) = try ParquetFileReader.flatSchema(meta, path: path)
            var groups: [RowGroupInfo] = []
            var total: Int64 = 0
            for (gi, rg) in meta.rowGroups.enumerated() {
                guard rg.columns.count == leaves.count else {
                    throw ParquetError.corruptMetadata(path: path, offset: Int(footerStart),
                                                       reason: "row group \(gi) has \(rg.columns.count) columns, schema has \(leaves.count)")
                }
                guard rg.numRows >= 0 else {
                    throw ParquetError.corruptMetadata(path: path, offset: Int(footerStart), reason: "row group \(gi) has negative row count")
                }
                let (t, o) = total.addingReportingOverflow(rg.numRows)
                guard !o else { throw ParquetError.corruptMetadata(path: path, offset: Int(footerStart), reason: "row count overflow") }
                total = t
                var infos: [ColumnChunkInfo] = []
                for (ci, cc) in rg.columns.enumerated() {
                    guard let m = cc.metaData else {
                        throw ParquetError.corruptMetadata(path: path, offset: Int(footerStart), reason: "column chunk without metadata")
                    }
                    let col = schema.columns[ci]
                    let physical = leaves[ci].type ?? .int32
                    var stats: ColumnStatistics? = nil
                    if let s = m.statistics {
                        let minB = s.minValue ?? (ParquetFileReader.legacyStatsUsable(col.type) ? s.min : nil)
                        let maxB = s.maxValue ?? (ParquetFileReader.legacyStatsUsable(col.type) ? s.max : nil)
                        stats = ColumnStatistics(nullCount: s.nullCount,
                                                 min: minB.flatMap { StatisticsConversion.value($0, physical: physical, type: col.type, time: TimeConversion(leaves[ci])) },
                                                 max: maxB.flatMap { StatisticsConversion.value($0, physical: physical, type: col.type, time: TimeConversion(leaves[ci])) })
                    }
                    infos.append(ColumnChunkInfo(valueCount: m.numValues, compressedSize: m.totalCompressedSize,
                                                 uncompressedSize: m.totalUncompressedSize, codec: m.codec, statistics: stats))
                }
                groups.append(RowGroupInfo(rowCount: rg.numRows, columns: infos))
            }
            guard total == meta.numRows else {
                throw ParquetError.corruptMetadata(path: path, offset: Int(footerStart),
                                                   reason: "row groups hold \(total) rows, footer says \(meta.numRows)")
            }
            self.fd = fd
            self.fileSize = size
            self.footerStart = footerStart
            self.metadata = meta
            self.schema = schema
            self.leaves = leaves
            self.rowGroups = groups
            self.rowCount = meta.numRows
            self.createdBy = meta.createdBy
            var kv: [String: String] = [:]
            for e in meta.keyValueMetadata ?? [] { kv[e.key] = e.value ?? "" }
            self.keyValueMetadata = kv
        } catch {
            close(fd)
            throw error
        }
    }

    deinit { close(fd) }

    /// The deprecated min/max fields used signed comparison; they are right only for signed numeric types.
    private static func legacyStatsUsable(_ t: ColumnType) -> Bool {
        switch t {
        case .boolean, .int16, .int32, .int64, .date, .timestamp: return true
        default: return false
        }
    }

    private static func flatSchema(_ meta: FileMetaData, path: String) throws -> (Schema, [SchemaElement]) {
        guard let root = meta.schema.first else {
            throw ParquetError.corruptMetadata(path: path, offset: 0, reason: "empty schema")
        }
        let leaves = Array(meta.schema.dropFirst())
        guard Int(root.numChildren ?? 0) == leaves.count else {
            throw ParquetError.unsupported(path: path, column: root.name, feature: "nested schema")
        }
        var columns: [Column] = []
        for e in leaves {
            guard (e.numChildren ?? 0) == 0, e.type != nil else {
                throw ParquetError.unsupported(path: path, column: e.name, feature: "nested column")
            }
            guard e.repetition != .repeated else {
                throw ParquetError.unsupported(path: path, column: e.name, feature: "repeated column")
            }
            switch SchemaMapping.columnType(of: e) {
            case let .success(t): columns.append(Column(e.name, t, nullable: e.repetition != .required))
            case let .failure(u): throw ParquetError.unsupported(path: path, column: e.name, feature: u.feature)
            }
        }
        return (Schema(columns), leaves)
    }

    private static func pread(_ fd: Int32, path: String, offset: Int64, count: Int) throws -> [UInt8] {
        var out = [UInt8](repeating: 0, count: count)
        var done = 0
        try out.withUnsafeMutableBytes { buf in
            while done < count {
                let n = Glibc.pread(fd, buf.baseAddress! + done, count - done, off_t(offset + Int64(done)))
                if n < 0 {
                    if errno == EINTR { continue }
                    throw ParquetError.io(path: path, operation: "pread", errno: errno)
                }
                if n == 0 { throw ParquetError.corruptMetadata(path: path, offset: Int(offset) + done, reason: "file shorter than expected") }
                done += n
            }
        }
        return out
    }

    /// Reads one column chunk of row group `rowGroup`: `column` is an index into `schema.columns`.
    public func readColumn(rowGroup: Int, column: Int) throws -> ColumnBuffer {
        guard rowGroups.indices.contains(rowGroup), schema.columns.indices.contains(column) else {
            throw ParquetError.invalidArgument("row group \(rowGroup) / column \(column) out of range")
        }
        let rg = metadata.rowGroups[rowGroup]
        let col = schema.columns[column]
        guard let m = rg.columns[column].metaData else {
            throw ParquetError.corruptMetadata(path: path, offset: Int(footerStart), reason: "column chunk without metadata")
        }
        let leaf = leaves[column]
        guard m.type == leaf.type else {
            throw ParquetError.corruptPage(path: path, column: col.name, offset: m.dataPageOffset, reason: "chunk type differs from schema")
        }
        var start = m.dataPageOffset
        if let d = m.dictionaryPageOffset, d >= 4, d < m.dataPageOffset { start = d }
        let length = m.totalCompressedSize
        guard start >= 4, length >= 0, length <= footerStart - start else {
            throw ParquetError.corruptPage(path: path, column: col.name, offset: start,
                                           reason: "chunk [\(start), +\(length)) outside the data area")
        }
        guard m.numValues == rg.numRows else {
            throw ParquetError.corruptPage(path: path, column: col.name, offset: start,
                                           reason: "chunk has \(m.numValues) values but row group has \(rg.numRows) rows")
        }
        let bytes = try ParquetFileReader.pread(fd, path: path, offset: start, count: Int(length))
        let decoder = ColumnChunkDecoder(path: path, column: col, physical: m.type, typeLength: leaf.typeLength.map { Int($0) },
                                         codec: m.codec, time: TimeConversion(leaf), baseOffset: start)
        return try decoder.decode(bytes, expectedValues: m.numValues)
    }

    /// Reads the given columns (default: all) of one row group, in the order given.
    public func readRowGroup(_ index: Int, columns: [Int]? = nil) throws -> [ColumnBuffer] {
        try (columns ?? Array(schema.columns.indices)).map { try readColumn(rowGroup: index, column: $0) }
    }

    /// Reads the given columns (default: all) of the whole file, concatenating row groups. Convenient for
    /// tests and small files; use `readRowGroup` to keep memory bounded.
    public func readAll(columns: [Int]? = nil) throws -> [ColumnBuffer] {
        let cols = columns ?? Array(schema.columns.indices)
        var out = cols.map { ColumnBuffer(ColumnValues.empty(schema.columns[$0].type.storage)) }
        for g in rowGroups.indices {
            let part = try readRowGroup(g, columns: cols)
            for i in out.indices { out[i].append(part[i]) }
        }
        return out
    }
}

extension ColumnBuffer {
    /// Appends the rows of `other` (same storage).
    public mutating func append(_ other: ColumnBuffer) {
        let before = count
        if validity != nil || other.validity != nil {
            var v = validity ?? [Bool](repeating: true, count: before)
            v.append(contentsOf: other.validity ?? [Bool](repeating: true, count: other.count))
            validity = v
        }
        // `if case var … = values` then overwriting `values` keeps the array uniquely referenced.
        switch other.values {
        case let .boolean(b): if values.modify(Bool.self, { $0.append(contentsOf: b) }) { return }
        case let .int32(b): if values.modify(Int32.self, { $0.append(contentsOf: b) }) { return }
        case let .int64(b): if values.modify(Int64.self, { $0.append(contentsOf: b) }) { return }
        case let .float(b): if values.modify(Float.self, { $0.append(contentsOf: b) }) { return }
        case let .double(b): if values.modify(Double.self, { $0.append(contentsOf: b) }) { return }
        case let .byteArray(b):
            guard case var .byteArray(a) = values else { break }
            values = .boolean([])
            let base = a.bytes.count
            a.bytes.append(contentsOf: b.bytes)
            a.offsets.append(contentsOf: b.offsets.dropFirst().lazy.map { $0 + base })
            values = .byteArray(a)
            return
        case let .fixed(b):
            guard case var .fixed(a) = values else { break }
            values = .boolean([]); a.bytes.append(contentsOf: b.bytes); values = .fixed(a); return
        }
        preconditionFailure("ColumnBuffer.append: storage differs")
    }
}
