import Foundation

/// The reader-schema file of a table's schema version, `parts/_schema/s<version>.parquet`: no rows, every column
/// readers see (`readerColumns`, widened types) and the internal columns. Query-time views (`SQLView`) read
/// `parts/*/*.parquet` by glob with `union_by_name`: this file makes the glob match at least one file when the table
/// has no parts, and gives every column the view names a type even when no part holds it yet. No manifest lists it,
/// merges never touch it, and orphan cleanup leaves its directory alone.
enum ReaderSchema {
    /// The directory under `parts/`; no partition is named so (partitions are `all`, `null`, `h=…`, `v=…` or dates).
    static let directory = "_schema"

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
        guard StoreFile.fileInfo(url) == nil else { return }
        try StoreFile.makeDirectory(url.deletingLastPathComponent())
        let w = try PartFileWriter(url: url, columns: m.readerColumns, rowGroupRows: options.rowGroupRows, metadata: [
            ("freshet.table", table), ("freshet.reader_schema", String(m.schemaVersions.last?.version ?? 1)),
        ])
        _ = try w.finish()
    }

    /// `writeReaderSchemaLocked` under the store lock.
    func writeReaderSchema(_ table: String) throws {
        try lock.withLock { try writeReaderSchemaLocked(table) }
    }
}
