import Foundation
import Parquet

/// The Parquet file reader on a whole file: the input is written to a temporary file (the reader reads through a
/// file descriptor), opened, and every column of every row group read.
enum ParquetTarget {
    /// One file per process, rewritten for every input (in /dev/shm when it exists: no disk I/O).
    static let path: String = {
        let dir = FileManager.default.fileExists(atPath: "/dev/shm") ? "/dev/shm" : NSTemporaryDirectory()
        return dir + "/freshet-fuzz-\(getpid()).parquet"
    }()

    static func run(_ input: [UInt8]) {
        guard FileManager.default.createFile(atPath: path, contents: Data(input)) else { return }
        defer { unlink(path) }
        guard let reader = try? ParquetFileReader(path: path) else { return }
        for group in reader.rowGroups.indices {
            for column in reader.schema.columns.indices {
                _ = try? reader.readColumn(rowGroup: group, column: column)
            }
        }
    }
}
