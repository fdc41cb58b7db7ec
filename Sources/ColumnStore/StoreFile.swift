import Foundation
import Parquet

/// The store's durable file operations: `Parquet.DurableFile`'s (the one home of temp-file naming, fsync of files and
/// directory entries, atomic replace and permissions — files 0640, directories 0750), with URLs and with errors as the
/// store reports them (`StoreError.io`).
enum StoreFile {
    static let fileMode = mode_t(DurableFile.defaultFileMode)

    /// Runs a file operation, reporting its failure as `StoreError.io`.
    static func mapped<T>(_ body: () throws -> T) throws -> T {
        do { return try body() } catch let ParquetError.io(path, operation, code) {
            throw StoreError.io(path: path, operation: operation, errno: code)
        }
    }

    static func makeDirectory(_ url: URL) throws { try mapped { try DurableFile.makeDirectory(url.path) } }
    static func syncDirectory(_ url: URL) throws { try mapped { try DurableFile.syncDirectory(url.path) } }
    static func syncFile(_ url: URL) throws { try mapped { try DurableFile.syncFile(url.path) } }
    static func writeNew(_ data: [UInt8], to url: URL) throws { try mapped { try DurableFile.writeNew(data, to: url.path) } }
    static func rename(_ from: URL, to: URL) throws { try mapped { try DurableFile.rename(from.path, to: to.path) } }
    static func read(_ url: URL) throws -> [UInt8] { try mapped { try DurableFile.read(url.path) } }
    static func fileInfo(_ url: URL) -> (size: Int, modified: Date)? { DurableFile.fileInfo(url.path) }
    static func remove(_ url: URL) { DurableFile.remove(url.path) }

    /// The temporary name of a file being written to `url`.
    static func temporaryURL(for url: URL) -> URL { URL(fileURLWithPath: DurableFile.temporaryPath(for: url.path)) }

    /// True for temporary names (what an abandoned write or a crash leaves; removed on open).
    static func isTemporary(_ name: String) -> Bool { DurableFile.isTemporary(name) }

    /// Atomically replaces `url` by `data`: temp file, fsync, rename, fsync directory. `beforeRename` lets tests stop
    /// half-way (a simulated crash).
    static func replace(_ url: URL, with data: [UInt8], beforeRename: (() throws -> Void)? = nil) throws {
        try mapped { try DurableFile.replace(url.path, with: data, beforeRename: beforeRename) }
    }
}
