/// Decodes pgoutput messages, one XLogData payload (after its 25-byte header) at a time.
///
/// The decoder is a small state machine: it remembers whether it is inside a streamed block
/// (between Stream Start and Stream Stop), where DML, Relation, Type, Message and Truncate carry an
/// Int32 xid prefix. Feed it every message of the stream, in order.
///
/// Malformed or truncated input always throws a `PgOutputError`; counts are checked against the bytes
/// left before anything is allocated. Decoded tuples are views into the bytes passed in (no copy per value).
public struct PgOutputDecoder: Sendable {
    /// The `proto_version` requested in START_REPLICATION (1–4). Stream messages need ≥ 2,
    /// two-phase messages ≥ 3, and the Stream Abort LSN/timestamp ≥ 4.
    public let protocolVersion: Int
    /// True between a Stream Start and the following Stream Stop.
    public private(set) var isInsideStreamedBlock = false

    /// `insideStreamedBlock: true` decodes messages that were received inside a streamed block, apart from the
    /// Stream Start before them (e.g. replaying a spooled streamed transaction).
    public init(protocolVersion: Int = 1, insideStreamedBlock: Bool = false) {
        self.protocolVersion = protocolVersion
        self.isInsideStreamedBlock = insideStreamedBlock
    }

    /// Decodes one message held in `message`.
    public mutating func decode(_ message: [UInt8]) throws(PgOutputError) -> PgOutputMessage {
        try decode(message[...])
    }

    /// Decodes one message held in `message` (e.g. an XLogData payload sliced past its header);
    /// tuples keep referring to `message`'s storage.
    public mutating func decode(_ message: ArraySlice<UInt8>) throws(PgOutputError) -> PgOutputMessage {
        guard !message.isEmpty else { throw .emptyMessage }
        let decoder = self
        let result = message.withUnsafeBytes { raw -> Result<(PgOutputMessage, Bool), PgOutputError> in
            Result { () throws(PgOutputError) in
                var reader = MessageReader(raw: raw, storage: message)
                return try decoder.decodeMessage(&reader)
            }
        }
        let (decoded, insideStreamedBlock) = try result.get()
        isInsideStreamedBlock = insideStreamedBlock
        return decoded
    }

    /// Decodes the message and returns it with the streamed-block state that follows it.
    private func decodeMessage(_ reader: inout MessageReader) throws(PgOutputError) -> (PgOutputMessage, Bool) {
        var inside = isInsideStreamedBlock
        let message: PgOutputMessage
        switch reader.kind {
        case UInt8(ascii: "B"):
            message = .begin(.init(finalLSN: try reader.lsn("Int64 final LSN"),
                                   commitTimestamp: try reader.int64("Int64 commit timestamp"),
                                   xid: try reader.uint32("Int32 xid")))
        case UInt8(ascii: "C"):
            message = .commit(.init(flags: try reader.uint8("Int8 flags"),
                                    commitLSN: try reader.lsn("Int64 commit LSN"),
                                    endLSN: try reader.lsn("Int64 end LSN"),
                                    commitTimestamp: try reader.int64("Int64 commit timestamp")))
        case UInt8(ascii: "O"):
            message = .origin(.init(commitLSN: try reader.lsn("Int64 origin commit LSN"),
                                    name: try reader.string("origin name")))
        case UInt8(ascii: "R"):
            message = .relation(try decodeRelation(&reader))
        case UInt8(ascii: "Y"):
            message = .type(.init(xid: try streamedXid(&reader), oid: try reader.uint32("Int32 type OID"),
                                  namespace: try reader.string("namespace"), name: try reader.string("type name")))
        case UInt8(ascii: "I"):
            let xid = try streamedXid(&reader)
            let oid = try reader.uint32("Int32 relation OID")
            try reader.expectMarker(UInt8(ascii: "N"), "'N' (new tuple)")
            message = .insert(.init(xid: xid, relationOID: oid, newTuple: try reader.tuple()))
        case UInt8(ascii: "U"):
            message = .update(try decodeUpdate(&reader))
        case UInt8(ascii: "D"):
            let xid = try streamedXid(&reader)
            let oid = try reader.uint32("Int32 relation OID")
            message = .delete(.init(xid: xid, relationOID: oid, oldTuple: try reader.oldTuple()))
        case UInt8(ascii: "T"):
            message = .truncate(try decodeTruncate(&reader))
        case UInt8(ascii: "M"):
            let xid = try streamedXid(&reader)
            let flags = try reader.uint8("Int8 flags")
            let lsn = try reader.lsn("Int64 message LSN")
            let prefix = try reader.string("prefix")
            let length = try reader.count32("Int32 content length", bytesPerItem: 1)
            message = .logicalMessage(.init(xid: xid, flags: flags, lsn: lsn, prefix: prefix,
                                            content: Array(try reader.bytes(length, "content"))))
        case UInt8(ascii: "S"):
            try requireVersion(2, reader.kind)
            guard !inside else { throw .unexpectedStreamState(kind: reader.kind, insideStreamedBlock: true) }
            message = .streamStart(.init(xid: try reader.uint32("Int32 xid"),
                                         isFirstSegment: try reader.uint8("Int8 first-segment flag") != 0))
            inside = true
        case UInt8(ascii: "E"):
            try requireVersion(2, reader.kind)
            guard inside else { throw .unexpectedStreamState(kind: reader.kind, insideStreamedBlock: false) }
            message = .streamStop
            inside = false
        case UInt8(ascii: "c"):
            try requireVersion(2, reader.kind)
            message = .streamCommit(.init(xid: try reader.uint32("Int32 xid"), flags: try reader.uint8("Int8 flags"),
                                          commitLSN: try reader.lsn("Int64 commit LSN"),
                                          endLSN: try reader.lsn("Int64 end LSN"),
                                          commitTimestamp: try reader.int64("Int64 commit timestamp")))
        case UInt8(ascii: "A"):
            try requireVersion(2, reader.kind)
            message = .streamAbort(try decodeStreamAbort(&reader))
        case UInt8(ascii: "b"):
            try requireVersion(3, reader.kind)
            message = .beginPrepare(.init(prepareLSN: try reader.lsn("Int64 prepare LSN"),
                                          endLSN: try reader.lsn("Int64 end LSN"),
                                          prepareTimestamp: try reader.int64("Int64 prepare timestamp"),
                                          xid: try reader.uint32("Int32 xid"), gid: try reader.string("GID")))
        case UInt8(ascii: "P"):
            try requireVersion(3, reader.kind)
            message = .prepare(try decodePrepare(&reader))
        case UInt8(ascii: "p"):
            try requireVersion(3, reader.kind)
            message = .streamPrepare(try decodePrepare(&reader))
        case UInt8(ascii: "K"):
            try requireVersion(3, reader.kind)
            message = .commitPrepared(.init(flags: try reader.uint8("Int8 flags"),
                                            commitLSN: try reader.lsn("Int64 commit LSN"),
                                            endLSN: try reader.lsn("Int64 end LSN"),
                                            commitTimestamp: try reader.int64("Int64 commit timestamp"),
                                            xid: try reader.uint32("Int32 xid"), gid: try reader.string("GID")))
        case UInt8(ascii: "r"):
            try requireVersion(3, reader.kind)
            message = .rollbackPrepared(.init(flags: try reader.uint8("Int8 flags"),
                                              prepareEndLSN: try reader.lsn("Int64 prepare end LSN"),
                                              rollbackEndLSN: try reader.lsn("Int64 rollback end LSN"),
                                              prepareTimestamp: try reader.int64("Int64 prepare timestamp"),
                                              rollbackTimestamp: try reader.int64("Int64 rollback timestamp"),
                                              xid: try reader.uint32("Int32 xid"), gid: try reader.string("GID")))
        default:
            throw .unknownMessageKind(kind: reader.kind)
        }
        try reader.expectEnd()
        return (message, inside)
    }

    private func requireVersion(_ required: Int, _ kind: UInt8) throws(PgOutputError) {
        guard protocolVersion >= required else {
            throw .requiresProtocolVersion(kind: kind, required: required, configured: protocolVersion)
        }
    }

    private func streamedXid(_ reader: inout MessageReader) throws(PgOutputError) -> UInt32? {
        isInsideStreamedBlock ? try reader.uint32("Int32 xid (streamed block)") : nil
    }

    private func decodeRelation(_ reader: inout MessageReader) throws(PgOutputError) -> RelationMessage {
        let xid = try streamedXid(&reader)
        let oid = try reader.uint32("Int32 relation OID")
        let namespace = try reader.string("namespace")
        let name = try reader.string("relation name")
        let identityOffset = reader.offset
        let identityByte = try reader.uint8("Int8 replica identity")
        guard let identity = ReplicaIdentity(rawValue: identityByte) else {
            throw .unexpectedByte(kind: reader.kind, offset: identityOffset, found: identityByte,
                                  expected: "replica identity 'd', 'n', 'f' or 'i'")
        }
        // Each column needs at least 1 flag byte, a 1-byte name, 4 + 4 bytes of type: 10 bytes.
        let count = try reader.count16("Int16 column count", bytesPerItem: 10)
        var columns: [RelationColumn] = []
        columns.reserveCapacity(count)
        for _ in 0..<count {
            columns.append(RelationColumn(flags: try reader.uint8("Int8 column flags"),
                                          name: try reader.string("column name"),
                                          typeOID: try reader.uint32("Int32 column type OID"),
                                          typeModifier: Int32(bitPattern: try reader.uint32("Int32 column type modifier"))))
        }
        return RelationMessage(xid: xid, oid: oid, namespace: namespace, name: name,
                               replicaIdentity: identity, columns: columns)
    }

    private func decodeUpdate(_ reader: inout MessageReader) throws(PgOutputError) -> PgOutputMessage.Update {
        let xid = try streamedXid(&reader)
        let oid = try reader.uint32("Int32 relation OID")
        var old: PgOutputMessage.OldTuple?
        if reader.nextByte != UInt8(ascii: "N") {
            old = try reader.oldTuple()
        }
        try reader.expectMarker(UInt8(ascii: "N"), "'N' (new tuple)")
        return .init(xid: xid, relationOID: oid, oldTuple: old, newTuple: try reader.tuple())
    }

    private func decodeTruncate(_ reader: inout MessageReader) throws(PgOutputError) -> PgOutputMessage.Truncate {
        let xid = try streamedXid(&reader)
        let count = try reader.count32("Int32 relation count", bytesPerItem: 4, after: 1)
        let options = PgOutputMessage.TruncateOptions(rawValue: try reader.uint8("Int8 options"))
        var oids: [UInt32] = []
        oids.reserveCapacity(count)
        for _ in 0..<count { oids.append(try reader.uint32("Int32 relation OID")) }
        return .init(xid: xid, options: options, relationOIDs: oids)
    }

    private func decodeStreamAbort(_ reader: inout MessageReader) throws(PgOutputError) -> PgOutputMessage.StreamAbort {
        let xid = try reader.uint32("Int32 xid")
        let subxid = try reader.uint32("Int32 subtransaction xid")
        // Parallel streaming (protocol 4) appends the abort LSN and time; otherwise the message ends here.
        guard protocolVersion >= 4, reader.remaining > 0 else {
            return .init(xid: xid, subtransactionXid: subxid)
        }
        return .init(xid: xid, subtransactionXid: subxid, abortLSN: try reader.lsn("Int64 abort LSN"),
                     abortTimestamp: try reader.int64("Int64 abort timestamp"))
    }

    private func decodePrepare(_ reader: inout MessageReader) throws(PgOutputError) -> PgOutputMessage.Prepare {
        .init(flags: try reader.uint8("Int8 flags"), prepareLSN: try reader.lsn("Int64 prepare LSN"),
              endLSN: try reader.lsn("Int64 end LSN"), prepareTimestamp: try reader.int64("Int64 prepare timestamp"),
              xid: try reader.uint32("Int32 xid"), gid: try reader.string("GID"))
    }
}

/// Bounds-checked big-endian reads over one message; every failure is a `PgOutputError` with the offset.
private struct MessageReader {
    let raw: UnsafeRawBufferPointer
    let storage: ArraySlice<UInt8>
    /// The message kind byte (the first byte).
    let kind: UInt8
    /// Offset of the next byte to read, from the start of the message.
    private(set) var offset = 1

    init(raw: UnsafeRawBufferPointer, storage: ArraySlice<UInt8>) {
        self.raw = raw
        self.storage = storage
        self.kind = raw[0]
    }

    var remaining: Int { raw.count - offset }

    private mutating func advance(_ size: Int, _ expected: String) throws(PgOutputError) -> Int {
        guard remaining >= size else { throw .truncated(kind: kind, offset: offset, expected: expected) }
        defer { offset += size }
        return offset
    }

    @inline(__always)
    private mutating func load<T: FixedWidthInteger>(_: T.Type, _ expected: String) throws(PgOutputError) -> T {
        let at = try advance(MemoryLayout<T>.size, expected)
        return raw.loadBigEndian(fromByteOffset: at, as: T.self)
    }

    mutating func uint8(_ expected: String) throws(PgOutputError) -> UInt8 { try load(UInt8.self, expected) }
    mutating func uint32(_ expected: String) throws(PgOutputError) -> UInt32 { try load(UInt32.self, expected) }
    mutating func int64(_ expected: String) throws(PgOutputError) -> Int64 { try load(Int64.self, expected) }
    mutating func lsn(_ expected: String) throws(PgOutputError) -> LSN { LSN(try load(UInt64.self, expected)) }

    /// An Int16 count of items, each at least `bytesPerItem` long; rejected when negative or when the
    /// bytes left cannot hold that many items.
    mutating func count16(_ field: String, bytesPerItem: Int) throws(PgOutputError) -> Int {
        let at = offset
        return try checkedCount(Int(try load(Int16.self, field)), at: at, field, bytesPerItem: bytesPerItem, after: 0)
    }

    /// An Int32 count or length, checked like `count16`; `after` bytes of other fields precede the items.
    mutating func count32(_ field: String, bytesPerItem: Int, after: Int = 0) throws(PgOutputError) -> Int {
        let at = offset
        return try checkedCount(Int(try load(Int32.self, field)), at: at, field, bytesPerItem: bytesPerItem, after: after)
    }

    private func checkedCount(_ count: Int, at: Int, _ field: String, bytesPerItem: Int, after: Int) throws(PgOutputError) -> Int {
        guard count >= 0, count <= (remaining - after) / bytesPerItem else {
            throw .invalidCount(kind: kind, offset: at, field: field, count: count)
        }
        return count
    }

    /// `count` raw bytes, as a view into the message.
    mutating func bytes(_ count: Int, _ expected: String) throws(PgOutputError) -> ArraySlice<UInt8> {
        let at = try advance(count, expected)
        return storage[storage.startIndex + at..<storage.startIndex + at + count]
    }

    /// A NUL-terminated UTF-8 string.
    mutating func string(_ field: String) throws(PgOutputError) -> String {
        let start = offset
        guard let end = raw[start...].firstIndex(of: 0) else {
            throw .unterminatedString(kind: kind, offset: start, field: field)
        }
        guard let text = String(validUTF8: UnsafeRawBufferPointer(rebasing: raw[start..<end])) else {
            throw .invalidUTF8(kind: kind, offset: start, field: field)
        }
        offset = end + 1
        return text
    }

    mutating func expectMarker(_ marker: UInt8, _ expected: String) throws(PgOutputError) {
        let at = offset
        let found = try uint8(expected)
        guard found == marker else { throw .unexpectedByte(kind: kind, offset: at, found: found, expected: expected) }
    }

    mutating func expectEnd() throws(PgOutputError) {
        guard remaining == 0 else { throw .trailingBytes(kind: kind, offset: offset, count: remaining) }
    }

    /// The next byte without consuming it; nil at the end.
    var nextByte: UInt8? { remaining > 0 ? raw[offset] : nil }

    /// Reads `K` or `O` + TupleData.
    mutating func oldTuple() throws(PgOutputError) -> PgOutputMessage.OldTuple {
        let at = offset
        let marker = try uint8("'K' or 'O' (old tuple)")
        switch marker {
        case UInt8(ascii: "K"): return .key(try tuple())
        case UInt8(ascii: "O"): return .full(try tuple())
        default: throw .unexpectedByte(kind: kind, offset: at, found: marker, expected: "'K' or 'O' (old tuple)")
        }
    }

    /// A TupleData: Int16 column count, then per column `n`, `u`, or `t`/`b` + Int32 length + bytes.
    /// (The hot path of the decoder: one tight loop, error values built only on failure.)
    mutating func tuple() throws(PgOutputError) -> TupleData {
        let count = try count16("Int16 tuple column count", bytesPerItem: 1)
        var columns: [TupleData.Column] = []
        columns.reserveCapacity(count)
        let end = raw.count
        let base = storage.startIndex
        var at = offset
        for _ in 0..<count {
            guard at < end else { throw .truncated(kind: kind, offset: at, expected: "tuple column kind") }
            let byte = raw[at]
            switch byte {
            case TupleColumnKind.text.rawValue, TupleColumnKind.binary.rawValue:
                guard end - at >= 5 else { throw .truncated(kind: kind, offset: at + 1, expected: "Int32 column value length") }
                let length = Int(raw.loadBigEndian(fromByteOffset: at + 1, as: Int32.self))
                guard length >= 0, length <= end - at - 5 else {
                    throw .invalidCount(kind: kind, offset: at + 1, field: "Int32 column value length", count: length)
                }
                columns.append(.init(kind: byte == TupleColumnKind.text.rawValue ? .text : .binary,
                                     length: Int32(length), start: base + at + 5))
                at += 5 + length
            case TupleColumnKind.null.rawValue:
                columns.append(.init(kind: .null, length: 0, start: base))
                at += 1
            case TupleColumnKind.unchangedToast.rawValue:
                columns.append(.init(kind: .unchangedToast, length: 0, start: base))
                at += 1
            default:
                throw .unexpectedByte(kind: kind, offset: at, found: byte, expected: "tuple column kind 'n', 'u', 't' or 'b'")
            }
        }
        offset = at
        return TupleData(storage: storage, columns: columns)
    }
}
