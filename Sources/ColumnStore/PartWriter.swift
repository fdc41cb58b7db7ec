import Foundation
import Parquet

/// Writes one part file of one partition from rows already in (key, _version) order, in row groups bounded in rows
/// and in bytes,
/// then makes it durable: temp file, fsync, rename into `parts/<partition>/`, fsync directory (unless `durable` is
/// false: then the commit that lists the part fsyncs the file and the directory).
/// The part is not visible to anyone until a manifest commit lists it.
struct PartWriter {
    let table: String
    let tableDirectory: URL
    let partition: String
    let columns: [ColumnDefinition]
    let schemaVersion: Int
    let level: Int
    let rowGroupRows: Int
    let rowGroupBytes: Int
    let durable: Bool
    /// Shared by the parts of one table written by `Store.stage` (see `DictionaryMemory`); nil: per part.
    let dictionaryMemory: DictionaryMemory?

    /// Bounds of the versions the part will hold (exact for staged batches, the inputs' for merges), written to the
    /// file's key/value metadata.
    let versionBounds: (min: UInt64, max: UInt64)
    private var writer: PartFileWriter?
    private var pending: RowBatch
    private let finalURL: URL
    private let relativePath: String
    private var rows = 0, tombstones = 0, unchangedRows = 0
    private var minVersion = UInt64.max, maxVersion = UInt64.min

    init(table: String, tableDirectory: URL, partition: String, columns: [ColumnDefinition],
         schemaVersion: Int, level: Int, rowGroupRows: Int, rowGroupBytes: Int,
         versionBounds: (min: UInt64, max: UInt64), durable: Bool = true, staged: Bool = false,
         dictionaryMemory: DictionaryMemory? = nil) throws {
        self.durable = durable
        self.dictionaryMemory = dictionaryMemory
        self.table = table
        self.tableDirectory = tableDirectory
        self.partition = partition
        self.columns = columns
        self.schemaVersion = schemaVersion
        self.level = level
        self.rowGroupRows = max(1, rowGroupRows)
        self.rowGroupBytes = max(1, rowGroupBytes)
        self.versionBounds = versionBounds
        let dir = tableDirectory.appendingPathComponent("parts").appendingPathComponent(partition)
        try StoreFile.makeDirectory(dir)
        // A staged part carries `StagedParts.suffix` until its commit renames it: query-time views glob `*.parquet`.
        let name = "l\(level)-\(UUID().uuidString.lowercased()).\(PartFormat.fileExtension)" + (staged ? StagedParts.suffix : "")
        relativePath = "parts/\(partition)/\(name)"
        finalURL = dir.appendingPathComponent(name)
        pending = RowBatch(columns: columns)
        pending.reserveCapacity(min(self.rowGroupRows, 65536))
    }

    /// Appends one row of `batch` (same columns); writes a row group when it is full.
    mutating func append(from batch: RowBatch, row: Int) throws {
        pending.appendRow(from: batch, row: row)
        try flushIfFull()
    }

    /// Appends all rows of a sorted batch. With nothing pending, the batch is written straight from its own buffers,
    /// one row group per range of at most `rowGroupRows` rows and about `rowGroupBytes` bytes (no copy of its values).
    mutating func append(sorted batch: RowBatch) throws {
        guard pending.count == 0 else {
            for r in 0..<batch.count { try append(from: batch, row: r) }
            return
        }
        if batch.count <= rowGroupRows && batch.approximateBytes <= rowGroupBytes {
            pending = batch
            if pending.count >= rowGroupRows { try flush() }
            return
        }
        let ranges = batch.rowRanges(maxRows: rowGroupRows, maxBytes: rowGroupBytes)
        try openWriter()
        let buffers = writer!.buffers(batch)
        for range in ranges {
            try writer!.write(buffers, rows: range)
            try writer!.endRowGroup()
        }
        count(batch, rows: 0..<batch.count)
    }

    /// Appends the rows of `batch` at `order` (indexes in (key, _version) order, no two with the same key and version),
    /// gathering one row group at a time: a part's values are copied a row group's worth at a time, never as a whole
    /// sorted copy of the batch (which, for a 32 MiB stream batch, held as much memory again while it was staged).
    mutating func append(_ batch: RowBatch, order: [Int]) throws {
        if order.count == batch.count && order.elementsEqual(0..<batch.count) { return try append(sorted: batch) }
        guard pending.count == 0 else {
            for r in order { try append(from: batch, row: r) }
            return
        }
        let ranges = batch.rowRanges(of: order, maxRows: rowGroupRows, maxBytes: rowGroupBytes)
        if ranges.count <= 1 { return try append(sorted: batch.gathered(order)) }
        try openWriter()
        for range in ranges {
            let group = batch.gathered(Array(order[range]))
            try writer!.write(group)
            try writer!.endRowGroup()
            count(group, rows: 0..<group.count)
        }
    }

    /// Appends a row assembled by the merge into `pending` through `body`.
    mutating func appendBuilt(_ body: (inout RowBatch) -> Void) throws {
        body(&pending)
        try flushIfFull()
    }

    /// Writes the pending row group once it holds `rowGroupRows` rows or `rowGroupBytes` bytes (the byte count is
    /// looked at every 64 rows: it sums over the columns).
    private mutating func flushIfFull() throws {
        if pending.count >= rowGroupRows || (pending.count & 63 == 0 && pending.approximateBytes >= rowGroupBytes) {
            try flush()
        }
    }

    var isEmpty: Bool { rows == 0 && pending.count == 0 }

    /// Creates the part file on first use.
    private mutating func openWriter() throws {
        if writer == nil {
            writer = try PartFileWriter(url: finalURL, columns: columns, rowGroupRows: rowGroupRows, metadata: [
                ("freshet.table", table),
                ("freshet.schema_version", String(schemaVersion)),
                ("freshet.min_version", String(versionBounds.min)),
                ("freshet.max_version", String(versionBounds.max)),
                ("freshet.level", String(level)),
            ], durable: durable, dictionaryMemory: dictionaryMemory)
        }
    }

    /// Adds `range` of `batch` to the part's row, tombstone, unchanged-row and version counts.
    private mutating func count(_ batch: RowBatch, rows range: Range<Int>) {
        for r in range {
            let v = batch.versions[r]
            if v < minVersion { minVersion = v }
            if v > maxVersion { maxVersion = v }
            if batch.isDeleted(r) { tombstones += 1 }
        }
        if batch.hasUnchanged {
            let marked = batch.buffers.filter { $0.unchanged.any }
            unchangedRows += range.reduce(0) { n, r in marked.contains { $0.unchanged[r] } ? n + 1 : n }
        }
        rows += range.count
    }

    private mutating func flush() throws {
        guard pending.count > 0 else { return }
        try openWriter()
        count(pending, rows: 0..<pending.count)
        try writer!.write(pending)
        try writer!.endRowGroup()   // one row group per flush: bounded in rows and bytes as `pending` is
        pending.removeAll()
        pending.reserveCapacity(min(rowGroupRows, 65536))
    }

    /// Finishes the file and moves it into place; nil when no row was appended.
    mutating func finish() throws -> PartEntry? {
        try flush()
        guard let w = writer else { return nil }
        let (bytes, checksum) = try w.finish()
        writer = nil
        return PartEntry(path: relativePath, partition: partition, rows: rows, bytes: bytes,
                         minVersion: minVersion, maxVersion: maxVersion, level: level,
                         checksum: checksum, schemaVersion: schemaVersion, generation: 0,
                         tombstones: tombstones, unchangedRows: unchangedRows)
    }

    /// Drops the temp file of an unfinished part.
    func abandon() { writer?.abort() }
}
