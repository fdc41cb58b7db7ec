import CLibPQ
import Foundation
#if canImport(Glibc)
import Glibc
#endif

/// A running `START_REPLICATION` stream (CopyBoth) on a replication connection.
///
/// One thread calls `next` in a loop; it answers keepalives that ask for a reply at once and sends standby status
/// updates when the confirmed flush LSN moves and every `statusInterval` seconds, so `wal_sender_timeout` never fires.
/// `confirm` may be called from any thread: it records the LSN up to which the caller's data is durable, and the
/// stream reports exactly that as the flush position — never more. The write position reports what was received.
public final class ReplicationStream: @unchecked Sendable {
    private let connection: Connection
    private let statusInterval: Double
    private let confirmedLock = NSLock()
    private var confirmedFlush: LSN
    private var lastSentFlush: LSN
    private var received: LSN
    private var lastStatusTime: Double = 0
    private var finished = false

    /// The server's WAL end from the latest keepalive (the walsender's decoded/sent position).
    public private(set) var serverWALEnd: LSN = .zero
    /// Number of standby status updates sent (for tests and metrics).
    public private(set) var statusUpdatesSent = 0

    init(connection: Connection, startLSN: LSN, statusInterval: Double) {
        self.connection = connection
        self.statusInterval = statusInterval
        self.confirmedFlush = startLSN
        self.lastSentFlush = startLSN
        self.received = startLSN
    }

    /// Records that everything up to `lsn` is durable at the caller. Never moves backwards. Thread-safe.
    public func confirm(_ lsn: LSN) {
        confirmedLock.lock()
        if lsn > confirmedFlush { confirmedFlush = lsn }
        confirmedLock.unlock()
    }

    /// The flush LSN most recently confirmed by the caller.
    public var confirmed: LSN {
        confirmedLock.lock(); defer { confirmedLock.unlock() }
        return confirmedFlush
    }

    /// Waits up to `timeout` seconds (nil: forever) for the next message. Returns nil on timeout.
    /// Throws `PostgresError` when the server ends the stream or the connection breaks.
    public func next(timeout: Double? = nil) throws -> ReplicationEvent? {
        let deadline = timeout.map { now() + $0 }
        while true {
            try sendStatusIfDue()
            var buffer: UnsafeMutablePointer<CChar>?
            let n = PQgetCopyData(connection.handle, &buffer, 1)
            if n > 0, let buffer {
                defer { PQfreemem(buffer) }
                let bytes = UnsafeRawBufferPointer(start: buffer, count: Int(n))
                if let event = try parse(bytes) { return event }
                continue
            }
            if n == -1 { throw endOfStreamError() }
            if n < -1 { throw connection.lostError() }
            // Nothing buffered: wait for the socket, in short slices so status updates stay timely.
            var wait = 0.1
            if let deadline {
                let remaining = deadline - now()
                if remaining <= 0 { return nil }
                wait = min(wait, remaining)
            }
            try waitReadable(seconds: wait)
            if PQconsumeInput(connection.handle) == 0 { throw connection.lostError() }
        }
    }

    /// Sends a status update now with the current positions; `requestReply` asks the server for a keepalive.
    public func sendStatus(requestReply: Bool = false) throws {
        let flushed = confirmed
        let message = ReplicationWire.standbyStatus(
            written: max(received, flushed), flushed: flushed, applied: flushed,
            nowMicros: Int64(now() * 1_000_000), replyRequested: requestReply)
        let ok = message.withUnsafeBufferPointer { p in
            p.baseAddress!.withMemoryRebound(to: CChar.self, capacity: p.count) {
                PQputCopyData(connection.handle, $0, Int32(p.count))
            }
        }
        guard ok == 1, PQflush(connection.handle) == 0 else { throw connection.lostError() }
        lastSentFlush = flushed
        lastStatusTime = now()
        statusUpdatesSent += 1
    }

    /// Ends the stream cleanly (CopyDone) after a final status update, and waits for the server to finish.
    /// The connection can be closed afterwards.
    public func stop() throws {
        guard !finished else { return }
        finished = true
        try? sendStatus()
        _ = PQputCopyEnd(connection.handle, nil)
        _ = PQflush(connection.handle)
        // Drain what the server still sends until it acknowledges the end of COPY.
        let deadline = now() + 10
        while now() < deadline {
            var buffer: UnsafeMutablePointer<CChar>?
            let n = PQgetCopyData(connection.handle, &buffer, 1)
            if let buffer { PQfreemem(buffer) }
            if n == -1 || n < -1 { break }
            if n == 0 {
                try? waitReadable(seconds: 0.1)
                if PQconsumeInput(connection.handle) == 0 { break }
            }
        }
        while let result = PQgetResult(connection.handle) { PQclear(result) }
    }

    // MARK: - Internals

    private func parse(_ bytes: UnsafeRawBufferPointer) throws -> ReplicationEvent? {
        guard let kind = bytes.first else { return nil }
        switch kind {
        case UInt8(ascii: "w"):
            guard bytes.count >= 25 else { throw PostgresError.protocolViolation("XLogData of \(bytes.count) bytes") }
            let start = LSN(bytes.loadBigEndian(fromByteOffset: 1, as: UInt64.self))
            let end = LSN(bytes.loadBigEndian(fromByteOffset: 9, as: UInt64.self))
            let time = bytes.loadBigEndian(fromByteOffset: 17, as: Int64.self) + PostgresValue.unixEpochOffsetMicros
            if start > received { received = start }
            return .data(XLogData(startLSN: start, walEnd: end, serverTimeMicros: time,
                                  payload: Array(bytes[25...])))
        case UInt8(ascii: "k"):
            guard bytes.count >= 18 else { throw PostgresError.protocolViolation("keepalive of \(bytes.count) bytes") }
            let walEnd = LSN(bytes.loadBigEndian(fromByteOffset: 1, as: UInt64.self))
            let time = bytes.loadBigEndian(fromByteOffset: 9, as: Int64.self) + PostgresValue.unixEpochOffsetMicros
            let reply = bytes[17] != 0
            if walEnd > serverWALEnd { serverWALEnd = walEnd }
            if reply { try sendStatus() }
            return .keepalive(Keepalive(walEnd: walEnd, serverTimeMicros: time, replyRequested: reply))
        default:
            return nil   // unknown message types are ignored (newer servers define more)
        }
    }

    private func sendStatusIfDue() throws {
        let flushed = confirmed
        if flushed > lastSentFlush || now() - lastStatusTime >= statusInterval {
            try sendStatus()
        }
    }

    private func waitReadable(seconds: Double) throws {
        var fds = pollfd(fd: PQsocket(connection.handle), events: Int16(POLLIN), revents: 0)
        let rc = poll(&fds, 1, Int32(max(0, seconds * 1000)))
        if rc < 0 && errno != EINTR { throw PostgresError.connectionLost(message: "poll failed: \(String(cString: strerror(errno)))") }
    }

    private func endOfStreamError() -> PostgresError {
        var error: PostgresError = .connectionLost(message: "server ended the replication stream")
        while let result = PQgetResult(connection.handle) {
            if PQresultStatus(result) == PGRES_FATAL_ERROR {
                error = QueryResult.serverError(result, connection: connection, command: "START_REPLICATION")
            }
            PQclear(result)
        }
        finished = true
        return error
    }

    private func now() -> Double { Date().timeIntervalSince1970 }
}
