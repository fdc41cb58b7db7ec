import Foundation

/// Every failure the Parquet module reports. Corrupt or unsupported input always ends in one of these,
/// never in a crash: each case carries enough context (file, column, offset) to find the bad bytes.
public enum ParquetError: Error, Sendable, CustomStringConvertible, Equatable {
    /// An operating-system call failed (`open`, `write`, `fsync`, `rename`, …).
    case io(path: String, operation: String, errno: Int32)
    /// The file does not start or end with `PAR1`, or is too short to be Parquet.
    case badMagic(path: String)
    /// The footer length does not fit in the file.
    case badFooterLength(path: String, length: Int64, fileSize: Int64)
    /// Thrift metadata could not be decoded (truncated, bad type, absurd sizes).
    case corruptMetadata(path: String, offset: Int, reason: String)
    /// A page header or page body is inconsistent.
    case corruptPage(path: String, column: String, offset: Int64, reason: String)
    /// LZ4 (or another codec) failed to decompress a page.
    case decompressionFailed(path: String, column: String, offset: Int64)
    /// The file uses a feature this reader does not implement (codec, encoding, nested schema, type).
    case unsupported(path: String, column: String, feature: String)
    /// The caller passed data that does not match the schema (wrong type, row counts differ, bad index).
    case invalidArgument(String)

    public var description: String {
        switch self {
        case let .io(path, op, e): return "\(path): \(op) failed: \(String(cString: strerror(e))) (errno \(e))"
        case let .badMagic(path): return "\(path): not a Parquet file (bad magic)"
        case let .badFooterLength(path, len, size): return "\(path): footer length \(len) out of range for file size \(size)"
        case let .corruptMetadata(path, off, why): return "\(path): corrupt metadata at byte \(off): \(why)"
        case let .corruptPage(path, col, off, why): return "\(path): column \(col): corrupt page at \(off): \(why)"
        case let .decompressionFailed(path, col, off): return "\(path): column \(col): decompression failed for page at \(off)"
        case let .unsupported(path, col, what): return "\(path): column \(col): unsupported \(what)"
        case let .invalidArgument(why): return "invalid argument: \(why)"
        }
    }
}

/// Decoding failure inside a byte buffer, before file/column context is attached.
struct DecodeError: Error {
    var offset: Int
    var reason: String
    init(_ reason: String, at offset: Int) { self.reason = reason; self.offset = offset }
}
