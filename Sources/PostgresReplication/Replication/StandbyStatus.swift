/// Messages of the replication sub-protocol carried inside CopyData (pg-replication reference §3).
enum ReplicationWire {
    /// A standby status update `'r'`: written, flushed and applied LSNs, client time, reply-requested flag.
    static func standbyStatus(written: LSN, flushed: LSN, applied: LSN, nowMicros: Int64, replyRequested: Bool) -> [UInt8] {
        var bytes: [UInt8] = [UInt8(ascii: "r")]
        bytes.reserveCapacity(34)
        bytes.appendBigEndian(written.value)
        bytes.appendBigEndian(flushed.value)
        bytes.appendBigEndian(applied.value)
        bytes.appendBigEndian(nowMicros - PostgresValue.unixEpochOffsetMicros)
        bytes.append(replyRequested ? 1 : 0)
        return bytes
    }
}

/// One XLogData message: a single pgoutput message and the LSN the server associates with it.
public struct XLogData: Sendable {
    /// The LSN in the header (0/0 for messages that are not the last written by their callback).
    public var startLSN: LSN
    public var walEnd: LSN
    /// Server send time, microseconds since the Unix epoch.
    public var serverTimeMicros: Int64
    /// The pgoutput message bytes.
    public var payload: [UInt8]
}

/// A primary keepalive.
public struct Keepalive: Sendable {
    /// The walsender's current sent/decoded position.
    public var walEnd: LSN
    public var serverTimeMicros: Int64
    public var replyRequested: Bool
}

/// What `ReplicationStream.next` returns.
public enum ReplicationEvent: Sendable {
    case data(XLogData)
    case keepalive(Keepalive)
}
