import Foundation

/// A recorded pgoutput stream, for benchmarks and for replaying real server output in tests.
///
/// Format (no file header, no trailer): the concatenation, in stream order, of records
///
///     [UInt32 big-endian length][length bytes]
///
/// where the bytes are one XLogData's pgoutput message — the CopyData payload after its 25-byte
/// XLogData header (`'w'`, dataStart, walEnd, sendTime), i.e. exactly what `PgOutputDecoder.decode` takes.
/// Keepalives and other CopyData messages are not recorded. A record longer than `maxRecordBytes` is corrupt.
public enum CaptureFile {
    /// The largest record accepted when reading (a Postgres message is at most 1 GB).
    public static let maxRecordBytes = 1 << 30

    /// Why a capture could not be read or written.
    public enum Failure: Error, Equatable, Sendable {
        /// The file ends inside a record (`offset` is where the record starts).
        case truncatedRecord(offset: Int)
        /// A record length is above `maxRecordBytes`.
        case recordTooLarge(offset: Int, length: Int)
        /// Opening, reading or writing the file failed.
        case io(path: String, reason: String)
    }

    /// Appends one record holding `message` to `buffer`.
    public static func appendRecord(_ message: some Collection<UInt8>, to buffer: inout [UInt8]) {
        let length = UInt32(message.count)
        buffer.append(contentsOf: [UInt8(length >> 24), UInt8(length >> 16 & 0xFF), UInt8(length >> 8 & 0xFF), UInt8(length & 0xFF)])
        buffer.append(contentsOf: message)
    }

    /// Reads the records of a capture held in memory, in order.
    public struct Reader: Sendable {
        /// The whole capture.
        public let bytes: [UInt8]
        /// Offset of the next record.
        public private(set) var offset = 0

        public init(bytes: [UInt8]) {
            self.bytes = bytes
        }

        /// Loads the capture file at `path` into memory.
        public init(contentsOf path: String) throws(Failure) {
            do {
                self.init(bytes: Array(try Data(contentsOf: URL(fileURLWithPath: path))))
            } catch {
                throw .io(path: path, reason: "\(error)")
            }
        }

        /// The next message as a view into `bytes`, or nil at the end of the capture.
        public mutating func next() throws(Failure) -> ArraySlice<UInt8>? {
            guard offset < bytes.count else { return nil }
            guard bytes.count - offset >= 4 else { throw .truncatedRecord(offset: offset) }
            let length = Int(bytes.loadBigEndian(fromByteOffset: offset, as: UInt32.self))
            guard length <= CaptureFile.maxRecordBytes else { throw .recordTooLarge(offset: offset, length: length) }
            guard bytes.count - offset - 4 >= length else { throw .truncatedRecord(offset: offset) }
            let start = offset + 4
            offset = start + length
            return bytes[start..<offset]
        }
    }

    /// Writes records to a file (created or truncated), buffering about 1 MB at a time.
    /// Not thread-safe: use it from the thread that receives the stream. Call `close()` at the end.
    public final class Writer {
        public let path: String
        private let handle: FileHandle
        private var pending: [UInt8] = []
        private static let flushThreshold = 1 << 20

        public init(path: String) throws(Failure) {
            self.path = path
            guard FileManager.default.createFile(atPath: path, contents: nil),
                  let handle = FileHandle(forWritingAtPath: path) else {
                throw .io(path: path, reason: "cannot create file")
            }
            self.handle = handle
        }

        /// Appends one message (an XLogData payload without its 25-byte header).
        public func write(_ message: some Collection<UInt8>) throws(Failure) {
            CaptureFile.appendRecord(message, to: &pending)
            if pending.count >= Self.flushThreshold { try flush() }
        }

        /// Writes buffered records to the file.
        public func flush() throws(Failure) {
            guard !pending.isEmpty else { return }
            do {
                try handle.write(contentsOf: pending)
            } catch {
                throw .io(path: path, reason: "\(error)")
            }
            pending.removeAll(keepingCapacity: true)
        }

        /// Flushes and closes the file.
        public func close() throws(Failure) {
            try flush()
            do {
                try handle.close()
            } catch {
                throw .io(path: path, reason: "\(error)")
            }
        }
    }
}
