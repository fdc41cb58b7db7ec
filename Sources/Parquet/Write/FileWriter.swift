/// What `ParquetFileWriter.close()` reports about the finished file.
public struct WrittenFile: Sendable, Hashable {
    /// Final path of the file.
    public var path: String
    /// File size in bytes.
    public var byteCount: Int64
    /// CRC-32 (zlib polynomial) of the whole file, computed while writing.
    public var crc32: UInt32
    /// Total rows.
    public var rowCount: Int64
    /// Number of row groups.
    public var rowGroupCount: Int
}

/// Streaming Parquet writer for a flat schema.
///
/// Append batches with `write(_:)` (one `ColumnBuffer` per schema column, same row count); row groups are
/// flushed when they reach `WriterOptions.rowGroupRows` or `rowGroupBytes`, so memory stays bounded. `close()`
/// writes the footer, fsyncs, renames the temporary file to `path`, fsyncs the directory, and returns the size
/// and CRC-32. A writer that is not closed leaves nothing at `path`; call `abort()` to remove its temporary file.
public final class ParquetFileWriter {
    public let path: String
    public let schema: Schema
    public let options: WriterOptions

    private var file: DurableFile
    private var columns: [ColumnChunkWriter]
    private var rowGroups: [RowGroup] = []
    private var rowGroupRows: Int64 = 0
    private var totalRows: Int64 = 0
    private var finished = false

    /// Creates the temporary file and writes the leading magic.
    public init(path: String, schema: Schema, options: WriterOptions = WriterOptions()) throws {
        guard !schema.columns.isEmpty else { throw ParquetError.invalidArgument("schema has no columns") }
        for c in schema.columns {
            switch c.type {
            case let .fixed(n) where n <= 0 || n > Int(SchemaMapping.maxFixedWidth):
                throw ParquetError.invalidArgument("column \(c.name): fixed width \(n) (1…\(SchemaMapping.maxFixedWidth))")
            case let .decimal(p, s) where p < 1 || p > 38 || s < 0 || s > p:
                throw ParquetError.invalidArgument("column \(c.name): decimal(\(p),\(s))")
            default: break
            }
        }
        self.path = path
        self.schema = schema
        var opts = options
        opts.pageRowLimit = max(1, opts.pageRowLimit)
        opts.rowGroupRows = max(1, opts.rowGroupRows)
        self.options = opts
        file = try DurableFile(path: path, mode: options.fileMode)
        let memory = options.dictionaryMemory ?? DictionaryMemory()
        columns = schema.columns.map { ColumnChunkWriter(column: $0, options: opts, dictionaryMemory: memory) }
        do { try file.write(Magic.bytes) } catch { file.discard(); throw error }
    }

    deinit {
        if !finished { file.discard() }
    }

    /// Rows written so far (including buffered rows).
    public var rowCount: Int64 { totalRows }

    /// Appends a batch: `batch[i]` holds the values of `schema.columns[i]`; all columns have the same count.
    public func write(_ batch: [ColumnBuffer]) throws {
        try write(batch, rows: nil)
    }

    /// Appends rows `rows` of a batch (all of it when nil): the buffers are validated as a whole, and only the range
    /// is encoded, so a caller can write one batch as several row groups without slicing its buffers.
    public func write(_ batch: [ColumnBuffer], rows range: Range<Int>?) throws {
        guard !finished else { throw ParquetError.invalidArgument("writer is closed") }
        guard batch.count == columns.count else {
            throw ParquetError.invalidArgument("batch has \(batch.count) columns, schema has \(columns.count)")
        }
        let count = try validate(batch)
        let rows = range?.upperBound ?? count
        guard rows <= count, (range?.lowerBound ?? 0) >= 0 else {
            throw ParquetError.invalidArgument("rows \(range.map { "\($0)" } ?? "") outside the batch's \(count) rows")
        }
        var start = range?.lowerBound ?? 0
        while start < rows {
            // Re-check the row group's byte size often enough that it overshoots by at most ~1/8.
            let perRow = rowGroupRows > 0 ? max(1, bufferedBytes / Int(rowGroupRows)) : 64
            let step = max(256, min(65_536, options.rowGroupBytes / 8 / perRow))
            let n = min(rows - start, options.rowGroupRows - Int(rowGroupRows), step)
            for (i, c) in columns.enumerated() { c.append(batch[i], start..<(start + n)) }
            start += n
            rowGroupRows += Int64(n)
            totalRows += Int64(n)
            if rowGroupRows >= Int64(options.rowGroupRows) || bufferedBytes >= options.rowGroupBytes {
                try flushRowGroup()
            }
        }
    }

    /// Checks a batch against the schema; returns its row count.
    @inline(never)
    private func validate(_ batch: [ColumnBuffer]) throws -> Int {
        let rows = batch.isEmpty ? 0 : batch[0].count
        for i in 0..<batch.count {
            let column = schema.columns[i]
            if let problem = ParquetFileWriter.problem(batch[i], column, rows: rows) {
                throw ParquetError.invalidArgument("column \(column.name): " + problem)
            }
        }
        return rows
    }

    /// Why `buffer` cannot be written as `column` with `rows` rows, or nil when it can.
    @inline(never)
    private static func problem(_ buffer: ColumnBuffer, _ column: Column, rows: Int) -> String? {
        let have = buffer.values.storage
        let need = column.type.storage
        if have != need { return "values are \(have), type \(column.type) needs \(need)" }
        let count = buffer.values.count
        if count != rows { return "\(count) rows, first column has \(rows)" }
        switch buffer.values {
        case let .byteArray(b):
            if b.offsets.first != 0 || (b.offsets.last ?? 0) > b.bytes.count { return "byte array offsets do not match the arena" }
        case let .fixed(f):
            if f.width > 0 && f.bytes.count % f.width != 0 { return "fixed bytes are not a multiple of the width" }
        default: break
        }
        guard let validity = buffer.validity else { return nil }
        if validity.count != rows { return "validity has \(validity.count) entries for \(rows) rows" }
        if !column.nullable && validity.contains(false) { return "required but has nulls" }
        return nil
    }

    private var bufferedBytes: Int { columns.reduce(0) { $0 + $1.bufferedBytes } }

    /// Writes the buffered row group now (no-op when empty).
    @inline(never)
    public func flushRowGroup() throws {
        guard rowGroupRows > 0 else { return }
        var rg = RowGroup()
        rg.numRows = rowGroupRows
        rg.fileOffset = file.offset
        let start = file.offset
        for c in columns {
            let chunkStart = file.offset
            let meta = try c.finishChunk(fileOffset: chunkStart) { try file.write($0) }
            rg.columns.append(ColumnChunk(fileOffset: chunkStart, metaData: meta))
            rg.totalByteSize += meta.totalUncompressedSize
        }
        rg.totalCompressedSize = file.offset - start
        rg.ordinal = Int16(truncatingIfNeeded: rowGroups.count)
        rowGroups.append(rg)
        rowGroupRows = 0
    }

    /// Flushes the last row group, writes the footer, makes the file durable and moves it to `path`.
    public func close() throws -> WrittenFile {
        guard !finished else { throw ParquetError.invalidArgument("writer is closed") }
        do {
            try flushRowGroup()
            var meta = FileMetaData()
            meta.schema = SchemaMapping.elements(for: schema)
            meta.numRows = totalRows
            meta.rowGroups = rowGroups
            if !options.keyValueMetadata.isEmpty {
                meta.keyValueMetadata = options.keyValueMetadata.map { KeyValue(key: $0.key, value: $0.value) }
            }
            meta.createdBy = options.createdBy
            if options.statistics { meta.typeDefinedColumnOrders = schema.columns.count }
            let footer = meta.thriftBytes()
            try file.write(footer)
            let len = UInt32(footer.count)
            try file.write((0..<4).map { UInt8(truncatingIfNeeded: len >> (8 * UInt32($0))) })
            try file.write(Magic.bytes)
            try file.commit(durable: options.durable)
            finished = true
            return WrittenFile(path: path, byteCount: file.offset, crc32: file.crc.value, rowCount: totalRows,
                               rowGroupCount: rowGroups.count)
        } catch {
            finished = true
            file.discard()
            throw error
        }
    }

    /// Abandons the file: removes the temporary file; nothing appears at `path`.
    public func abort() {
        guard !finished else { return }
        finished = true
        file.discard()
    }
}

enum Magic {
    static let bytes: [UInt8] = [0x50, 0x41, 0x52, 0x31]
}
