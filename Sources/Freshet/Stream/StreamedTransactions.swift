import ColumnStore
import Foundation
#if canImport(Glibc)
import Glibc
#endif

/// The in-progress transactions the server streams (pgoutput protocol 2, `streaming 'on'`), each spooled to its own
/// file until its Stream Commit or Stream Abort.
///
/// Each message of a streamed block is appended, as the raw pgoutput payload (an Int32 length, then the bytes), to
/// the file of the block's top-level xid. Memory holds one write buffer (`bufferBytes`), flushed when full and at
/// each Stream Stop, plus a set of aborted subtransaction xids per open transaction: the memory bound does not depend
/// on the transaction's size or on how many transactions interleave. At Stream Commit the applier replays the file
/// (in `readBytes` chunks) through its normal Begin … Commit path, skipping changes of aborted subtransactions.
///
/// The files are not made durable: nothing is confirmed to PostgreSQL on their behalf (a streamed transaction counts
/// only once committed to the store), so after a crash or a lost connection the server streams the transaction again
/// from its start. `removeAll` (at start and when the connection is abandoned) deletes them. Errors are
/// `StoreError.io`: a full disk is waited out like the store's own writes, then the stream restarts from the checkpoint.
final class StreamedTransactions {
    /// One open streamed transaction.
    private struct Spool {
        var fd: Int32
        var bytes: Int
        /// Subtransactions that aborted (ROLLBACK TO SAVEPOINT): their changes are skipped at replay.
        var abortedSubtransactions: Set<UInt32> = []
    }

    /// Flush the write buffer past this many bytes.
    static let bufferBytes = 1 << 20
    /// Replay reads the file in chunks of this size (a message longer than it gets a buffer of its own size).
    static let readBytes = 4 << 20

    let directory: URL
    private var open: [UInt32: Spool] = [:]
    /// The block being received: its xid and the bytes not yet written.
    private var bufferXid: UInt32?
    private var buffer: [UInt8] = []

    /// Uses `directory` (created when missing) and deletes what an earlier process left there.
    init(directory: URL) throws {
        self.directory = directory
        try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
        removeStale()
    }

    deinit { removeAll() }

    /// Transactions streamed and neither committed nor aborted yet.
    var openCount: Int { open.count }
    /// Bytes spooled for open transactions (buffer included).
    var spooledBytes: Int { open.values.reduce(0) { $0 + $1.bytes } }

    private func path(_ xid: UInt32) -> String { directory.appendingPathComponent("\(xid).spool").path }

    /// Stream Start: the messages until Stream Stop belong to `xid`. The first segment starts a new file.
    func startBlock(xid: UInt32, firstSegment: Bool) throws {
        try flush()
        if firstSegment, let old = open.removeValue(forKey: xid) { discard(xid, old) }
        if open[xid] == nil {
            let p = path(xid)
            let fd = Glibc.open(p, O_RDWR | O_CREAT | O_TRUNC | O_CLOEXEC, 0o600)
            guard fd >= 0 else { throw StoreError.io(path: p, operation: "spool create", errno: errno) }
            open[xid] = Spool(fd: fd, bytes: 0)
        }
        bufferXid = xid
    }

    /// Appends one message of the current block.
    func append(_ payload: [UInt8]) throws {
        guard let xid = bufferXid, open[xid] != nil else {
            throw ReplicatorError.protocolState("a change of a streamed transaction arrived outside a Stream Start … Stop block")
        }
        withUnsafeBytes(of: UInt32(payload.count).bigEndian) { buffer.append(contentsOf: $0) }
        buffer.append(contentsOf: payload)
        open[xid]?.bytes += 4 + payload.count
        if buffer.count >= StreamedTransactions.bufferBytes { try flush() }
    }

    /// Stream Stop: writes the block's buffered messages.
    func endBlock() throws {
        try flush()
        bufferXid = nil
    }

    /// Stream Abort: the whole transaction (`subxid == xid`) is dropped, or only a subtransaction's changes.
    func abort(xid: UInt32, subxid: UInt32) throws {
        if bufferXid == xid { try flush() }
        if subxid == xid {
            if let spool = open.removeValue(forKey: xid) { discard(xid, spool) }
        } else {
            open[xid]?.abortedSubtransactions.insert(subxid)
        }
    }

    /// Bytes spooled for the transaction (0 when it has no spool).
    func spooledBytes(_ xid: UInt32) -> Int { open[xid]?.bytes ?? 0 }

    /// Stream Commit: calls `body` with each spooled message in order and the set of aborted subtransactions, then
    /// deletes the spool. The slice passed to `body` is valid only during the call.
    func replay(xid: UInt32, _ body: (ArraySlice<UInt8>, Set<UInt32>) throws -> Void) throws {
        if bufferXid == xid { try flush() }
        guard let spool = open.removeValue(forKey: xid) else { return }
        defer { discard(xid, spool) }
        guard lseek(spool.fd, 0, SEEK_SET) == 0 else { throw StoreError.io(path: path(xid), operation: "spool seek", errno: errno) }
        var chunk = [UInt8](repeating: 0, count: StreamedTransactions.readBytes)
        var filled = 0, start = 0
        while true {
            // Messages wholly in the chunk.
            while filled - start >= 4 {
                let length = Self.lengthPrefix(chunk, at: start)
                guard filled - start - 4 >= length else { break }
                try body(chunk[start + 4..<start + 4 + length], spool.abortedSubtransactions)
                start += 4 + length
            }
            // Keep the partial message, grow the chunk for a message longer than it, read more.
            if start > 0 {
                chunk.withUnsafeMutableBytes { raw in
                    if filled > start, let base = raw.baseAddress { memmove(base, base + start, filled - start) }
                }
                filled -= start
                start = 0
            }
            if filled >= 4 {
                let length = Self.lengthPrefix(chunk, at: 0)
                if 4 + length > chunk.count { chunk += [UInt8](repeating: 0, count: 4 + length - chunk.count) }
            }
            let n = chunk.withUnsafeMutableBytes { raw in read(spool.fd, raw.baseAddress! + filled, raw.count - filled) }
            if n < 0 { throw StoreError.io(path: path(xid), operation: "spool read", errno: errno) }
            if n == 0 {
                guard filled == 0 else { throw StoreError.io(path: path(xid), operation: "spool read (truncated)", errno: EIO) }
                return
            }
            filled += n
        }
    }

    /// The length prefix (big-endian UInt32) of the message at `offset`.
    private static func lengthPrefix(_ chunk: [UInt8], at offset: Int) -> Int {
        Int(UInt32(bigEndian: chunk.withUnsafeBytes { $0.loadUnaligned(fromByteOffset: offset, as: UInt32.self) }))
    }

    /// Deletes every spool (the server streams those transactions again after a reconnect).
    func removeAll() {
        buffer.removeAll()
        bufferXid = nil
        for (xid, spool) in open { discard(xid, spool) }
        open.removeAll()
    }

    private func flush() throws {
        guard let xid = bufferXid, !buffer.isEmpty, let spool = open[xid] else { buffer.removeAll(keepingCapacity: true); return }
        var offset = 0
        while offset < buffer.count {
            let n = buffer.withUnsafeBytes { raw in write(spool.fd, raw.baseAddress! + offset, raw.count - offset) }
            if n < 0 {
                if errno == EINTR { continue }
                throw StoreError.io(path: path(xid), operation: "spool write", errno: errno)
            }
            offset += n
        }
        buffer.removeAll(keepingCapacity: buffer.capacity <= 2 * StreamedTransactions.bufferBytes)
    }

    private func discard(_ xid: UInt32, _ spool: Spool) {
        close(spool.fd)
        unlink(path(xid))
        if bufferXid == xid { buffer.removeAll(keepingCapacity: true) }
    }

    private func removeStale() {
        for name in (try? FileManager.default.contentsOfDirectory(atPath: directory.path)) ?? [] where name.hasSuffix(".spool") {
            unlink(directory.appendingPathComponent(name).path)
        }
    }
}
