import Foundation

/// The seam between the store and a part file format: write sorted rows row group by row group, read them back.
/// Rows carry `_version`, the deleted flag and unchanged markers; the format maps them to its own columns.
protocol PartFileWriter {
    /// Appends `batch` (sorted, same columns as the writer) as one row group.
    mutating func writeRowGroup(_ batch: RowBatch) throws
    /// Writes the footer with `metadata`, fsyncs and closes the file.
    mutating func finish(metadata: [String: String]) throws
}

/// A part file opened for reading.
protocol PartFileReader {
    /// The table columns stored in the file (no internal columns).
    var columns: [ColumnDefinition] { get }
    var metadata: [String: String] { get }
    var rowGroupCount: Int { get }
    /// Reads row group `index`; `columns` (names) limits which table columns are decoded (the others are NULL and
    /// absent from the result), nil reads all.
    func readRowGroup(_ index: Int, columns: Set<String>?) throws -> RowBatch
}

/// The part file format in use (Parquet; see docs/store-format.md).
enum PartFormat {
    static let fileExtension = "parquet"

    static func writer(url: URL, columns: [ColumnDefinition]) throws -> any PartFileWriter {
        try ParquetPartWriter(url: url, columns: columns)
    }

    static func reader(bytes: [UInt8], path: String) throws -> any PartFileReader {
        try ParquetPartReader(bytes: bytes, path: path)
    }
}
