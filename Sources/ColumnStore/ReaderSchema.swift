import Foundation
import Parquet

/// Files of `parts/_schema/` that query-time views (`SQLView`) rely on; no manifest lists them, merges never touch
/// them, and orphan cleanup leaves the directory alone.
///
/// - `s<version>.parquet`, the *reader-schema file* of a schema version: no rows, every column readers see
///   (`readerColumns`, widened types), the internal columns and `_gone`. Views read `parts/*/*.parquet` by glob with
///   `union_by_name`: this file makes the glob match at least one file when the table has no parts, and gives every
///   column the view names a type even when no part holds it yet.
///
/// A replaced part whose grace period has passed is not unlinked but replaced atomically by a *gone marker*: a Parquet
/// file of one row whose only column, `_gone`, is true (`Store.replaceByGoneMarker`). A query that globbed the part's
/// name a moment earlier still opens a valid Parquet file and skips it (no manifest lists it any more); a query that
/// still needed the part (one that outlived the grace period) fails on `_gone` instead of reading too little. The
/// markers themselves are unlinked in batches (`Store.collectGarbage`).
enum ReaderSchema {
    /// The directory under `parts/`; no partition is named so (partitions are `all`, `null`, `h=…`, `v=…` or dates).
    static let directory = "_schema"
    /// The marker column of the gone marker.
    static let goneColumn = "_gone"

    static func relativePath(version: Int) -> String { "parts/\(directory)/s\(version).\(PartFormat.fileExtension)" }
}

extension Store {
    /// The reader-schema file of `table`'s newest schema version.
    func readerSchemaURL(_ table: String, _ m: Manifest) -> URL {
        tableDirectory(table).appendingPathComponent(ReaderSchema.relativePath(version: m.schemaVersions.last?.version ?? 1))
    }

    /// Writes the reader-schema file of the table's newest schema version unless it exists. Caller holds `lock`.
    func writeReaderSchemaLocked(_ table: String) throws {
        let m = try readyManifest(table)
        let url = readerSchemaURL(table, m)
        guard DurableFile.fileInfo(url) == nil else { return }
        try DurableFile.makeDirectory(url.deletingLastPathComponent())
        let w = try PartFileWriter(url: url, columns: m.readerColumns, rowGroupRows: options.rowGroupRows, metadata: [
            ("freshet.table", table), ("freshet.reader_schema", String(m.schemaVersions.last?.version ?? 1)),
        ], extraColumns: [Parquet.Column(ReaderSchema.goneColumn, .boolean, nullable: true)])
        _ = try w.finish()
    }

    /// `writeReaderSchemaLocked` under the store lock.
    func writeReaderSchema(_ table: String) throws {
        try lock.withLock { try writeReaderSchemaLocked(table) }
    }

    /// Replaces the file at `url` (a part no manifest offers any more) by a gone marker, written to a temp file and
    /// renamed over it: a reader opening the path sees the part or the marker. The marker is a new file (its own
    /// inode and modification time), so readers that cache file metadata by path and modification time do not mistake
    /// it for the part. Falls back to unlinking when the marker cannot be written.
    func replaceByGoneMarker(_ url: URL) {
        guard DurableFile.fileInfo(url) != nil else { return }
        do {
            var o = WriterOptions()
            o.durable = false
            o.fileMode = DurableFile.fileMode
            o.keyValueMetadata = [("freshet.gone", "true")]
            let w = try ParquetFileWriter(path: url.path, schema: Schema([Parquet.Column(ReaderSchema.goneColumn, .boolean, nullable: false)]), options: o)
            try w.write([Parquet.ColumnBuffer(.boolean([true]))])
            _ = try w.close()
        } catch {
            DurableFile.remove(url)
        }
    }
}
