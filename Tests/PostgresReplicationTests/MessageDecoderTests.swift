import XCTest
@testable import PostgresReplication

/// Bytes from a hex string; spaces and `|` are ignored, `"text"` segments are added as UTF-8.
func hex(_ text: String) -> [UInt8] {
    var bytes: [UInt8] = []
    var pending: UInt8?
    var inQuote = false
    for scalar in text.unicodeScalars {
        if scalar == "\"" { inQuote.toggle(); continue }
        if inQuote { bytes.append(contentsOf: Array(String(scalar).utf8)); continue }
        guard let digit = hexDigitValue(UInt8(truncatingIfNeeded: scalar.value)), scalar.isASCII else { continue }
        if let high = pending { bytes.append(high << 4 | digit); pending = nil } else { pending = digit }
    }
    precondition(pending == nil, "odd number of hex digits in \(text)")
    return bytes
}

/// Byte-exact pgoutput messages as a PG15 walsender sends them.
enum PgOutputFixtures {
    static let begin = hex(#"42 00000016B374D848 00029C5F4B2E1A00 000002EA"#)
    static let commit = hex(#"43 00 00000016B374D848 00000016B374D878 00029C5F4B2E1A00"#)
    static let origin = hex(#"4F 0000000000001000 "node1" 00"#)
    /// public.orders (id int8 key, amount numeric(12,2), note text), replica identity default.
    static let relation = hex(#"52 00004000 "public" 00 "orders" 00 64 0003"#
        + #" 01 "id" 00 00000014 FFFFFFFF"#
        + #" 00 "amount" 00 000006A4 000C0006"#
        + #" 00 "note" 00 00000019 FFFFFFFF"#)
    static let type = hex(#"59 00004100 "public" 00 "mood" 00"#)
    /// Insert (t "42", n, b DEADBEEF).
    static let insert = hex(#"49 00004000 4E 0003 74 00000002 "42" 6E 62 00000004 DEADBEEF"#)
    static let updateWithKey = hex(#"55 00004000 4B 0003 74 00000001 "1" 6E 6E"#
        + #" 4E 0003 74 00000001 "2" 74 00000004 "1.50" 75"#)
    static let updateWithOld = hex(#"55 00004000 4F 0003 74 00000001 "1" 74 00000004 "1.00" 6E"#
        + #" 4E 0003 74 00000001 "1" 74 00000004 "2.00" 6E"#)
    static let updateNewOnly = hex(#"55 00004000 4E 0003 74 00000001 "1" 74 00000004 "2.00" 75"#)
    static let deleteWithKey = hex(#"44 00004000 4B 0003 74 00000001 "1" 6E 6E"#)
    static let deleteWithOld = hex(#"44 00004000 4F 0003 74 00000001 "1" 74 00000004 "2.00" 74 00000000"#)
    static let truncateBoth = hex(#"54 00000002 03 00004000 00004001"#)
    static let truncateCascade = hex(#"54 00000001 01 00004000"#)
    static let truncatePlain = hex(#"54 00000001 00 00004000"#)
    static let messageTransactional = hex(#"4D 01 0000000001000000 "freshet" 00 00000005 "hello""#)
    static let messageNonTransactional = hex(#"4D 00 0000000001000008 "hb" 00 00000000"#)
    static let unicodeInsert = hex(#"49 00004000 4E 0002 74 00000000 74 00000009 "ü€😀""#)

    // Protocol 2: streaming.
    static let streamStart = hex(#"53 000003E8 01"#)
    static let streamStop = hex(#"45"#)
    static let streamedRelation = hex(#"52 000003E8 00004000 "public" 00 "t" 00 66 0001 01 "id" 00 00000017 FFFFFFFF"#)
    static let streamedType = hex(#"59 000003E8 00004100 "" 00 "int4" 00"#)
    static let streamedInsert = hex(#"49 000003E9 00004000 4E 0001 74 00000001 "7""#)
    static let streamedUpdate = hex(#"55 000003E9 00004000 4E 0001 74 00000001 "8""#)
    static let streamedDelete = hex(#"44 000003E9 00004000 4B 0001 74 00000001 "8""#)
    static let streamedTruncate = hex(#"54 000003E8 00000001 02 00004000"#)
    static let streamedMessage = hex(#"4D 000003E8 01 0000000001000000 "p" 00 00000001 FF"#)
    static let streamCommit = hex(#"63 000003E8 00 0000000001000000 0000000001000040 0000000000000001"#)
    static let streamAbort = hex(#"41 000003E8 000003E9"#)
    static let streamAbortParallel = hex(#"41 000003E8 000003E8 0000000001000080 0000000000000002"#)

    // Protocol 3: two-phase.
    static let beginPrepare = hex(#"62 0000000002000000 0000000002000030 0000000000000003 000003EA "gid1" 00"#)
    static let prepare = hex(#"50 00 0000000002000000 0000000002000030 0000000000000003 000003EA "gid1" 00"#)
    static let commitPrepared = hex(#"4B 00 0000000002000100 0000000002000130 0000000000000004 000003EA "gid1" 00"#)
    static let rollbackPrepared = hex(#"72 00 0000000002000030 0000000002000200 0000000000000003 0000000000000005 000003EA "gid1" 00"#)
    static let streamPrepare = hex(#"70 00 0000000002000000 0000000002000030 0000000000000003 000003E8 "g" 00"#)

    /// Messages valid outside a streamed block under protocol 1 (or any version).
    static let plain: [[UInt8]] = [begin, commit, origin, relation, type, insert, updateWithKey, updateWithOld,
                                   updateNewOnly, deleteWithKey, deleteWithOld, truncateBoth, truncateCascade,
                                   truncatePlain, messageTransactional, messageNonTransactional, unicodeInsert]
    /// Messages valid inside a streamed block (protocol ≥ 2).
    static let streamed: [[UInt8]] = [streamedRelation, streamedType, streamedInsert, streamedUpdate,
                                      streamedDelete, streamedTruncate, streamedMessage]
    /// Messages valid outside a streamed block under protocol 4.
    static let outsideStreamV4: [[UInt8]] = [streamCommit, streamAbort, streamAbortParallel, beginPrepare,
                                             prepare, commitPrepared, rollbackPrepared, streamPrepare]
}

final class MessageDecoderTests: XCTestCase {
    private func decode(_ bytes: [UInt8], version: Int = 1, file: StaticString = #filePath,
                        line: UInt = #line) throws -> PgOutputMessage {
        var decoder = PgOutputDecoder(protocolVersion: version)
        return try decoder.decode(bytes)
    }

    private func tuple(_ columns: [(TupleColumnKind, String?)]) -> TupleData {
        var bytes: [UInt8] = [0, UInt8(columns.count)]
        var entries: [TupleData.Column] = []
        for (kind, text) in columns {
            let value = Array((text ?? "").utf8)
            entries.append(.init(kind: kind, length: Int32(value.count), start: bytes.count))
            bytes += value
        }
        return TupleData(storage: bytes[...], columns: entries)
    }

    func testBeginCommitOrigin() throws {
        XCTAssertEqual(try decode(PgOutputFixtures.begin), .begin(.init(
            finalLSN: LSN("16/B374D848")!, commitTimestamp: 0x0002_9C5F_4B2E_1A00, xid: 746)))
        XCTAssertEqual(try decode(PgOutputFixtures.commit), .commit(.init(
            flags: 0, commitLSN: LSN("16/B374D848")!, endLSN: LSN("16/B374D878")!, commitTimestamp: 0x0002_9C5F_4B2E_1A00)))
        XCTAssertEqual(try decode(PgOutputFixtures.origin), .origin(.init(commitLSN: LSN(0x1000), name: "node1")))
    }

    func testRelationAndType() throws {
        let expected = RelationMessage(oid: 16384, namespace: "public", name: "orders", replicaIdentity: .default, columns: [
            RelationColumn(flags: 1, name: "id", typeOID: TypeOID.int8, typeModifier: -1),
            RelationColumn(flags: 0, name: "amount", typeOID: TypeOID.numeric, typeModifier: (12 << 16 | 2) + 4),
            RelationColumn(flags: 0, name: "note", typeOID: TypeOID.text, typeModifier: -1),
        ])
        XCTAssertEqual(try decode(PgOutputFixtures.relation), .relation(expected))
        XCTAssertEqual(expected.columns.map { $0.isKey }, [true, false, false])
        XCTAssertEqual(try decode(PgOutputFixtures.type), .type(.init(oid: 16640, namespace: "public", name: "mood")))

        var cache = RelationCache()
        cache.update(expected)
        XCTAssertEqual(cache[16384]?.name, "orders")
        XCTAssertNil(cache[1])
    }

    func testInsertTupleColumnKinds() throws {
        guard case .insert(let insert) = try decode(PgOutputFixtures.insert) else { return XCTFail() }
        XCTAssertEqual(insert.relationOID, 16384)
        XCTAssertNil(insert.xid)
        let row = insert.newTuple
        XCTAssertEqual(row.count, 3)
        XCTAssertEqual([row.kind(at: 0), row.kind(at: 1), row.kind(at: 2)], [.text, .null, .binary])
        XCTAssertEqual(row.string(at: 0), "42")
        XCTAssertTrue(row.isNull(at: 1))
        XCTAssertNil(row.bytes(at: 1))
        XCTAssertEqual(row.bytes(at: 2).map(Array.init), [0xDE, 0xAD, 0xBE, 0xEF])
        XCTAssertEqual(row.withBytes(at: 0) { $0.count }, 2)
        XCTAssertEqual(row.debugDescription, #"(t"42", n, b[4 bytes])"#)
        row.withUnsafeColumns { columns in
            XCTAssertEqual(columns.count, 3)
            XCTAssertEqual(columns[0].map(Array.init), Array("42".utf8))
            XCTAssertNil(columns[1])
            XCTAssertEqual(columns.kind(at: 2), .binary)
            XCTAssertEqual(columns[2].map { try? BinaryValueParser.parseInt32($0) }, Int32(bitPattern: 0xDEAD_BEEF))
        }
    }

    func testUnicodeAndEmptyText() throws {
        guard case .insert(let insert) = try decode(PgOutputFixtures.unicodeInsert) else { return XCTFail() }
        XCTAssertEqual(insert.newTuple.string(at: 0), "", "empty string is not NULL")
        XCTAssertFalse(insert.newTuple.isNull(at: 0))
        XCTAssertEqual(insert.newTuple.string(at: 1), "ü€😀")
    }

    func testUpdateVariants() throws {
        XCTAssertEqual(try decode(PgOutputFixtures.updateWithKey), .update(.init(
            relationOID: 16384, oldTuple: .key(tuple([(.text, "1"), (.null, nil), (.null, nil)])),
            newTuple: tuple([(.text, "2"), (.text, "1.50"), (.unchangedToast, nil)]))))
        XCTAssertEqual(try decode(PgOutputFixtures.updateWithOld), .update(.init(
            relationOID: 16384, oldTuple: .full(tuple([(.text, "1"), (.text, "1.00"), (.null, nil)])),
            newTuple: tuple([(.text, "1"), (.text, "2.00"), (.null, nil)]))))
        guard case .update(let update) = try decode(PgOutputFixtures.updateNewOnly) else { return XCTFail() }
        XCTAssertNil(update.oldTuple)
        XCTAssertEqual(update.newTuple.kind(at: 2), .unchangedToast)
        XCTAssertFalse(update.newTuple.isNull(at: 2), "unchanged TOAST is not NULL")
    }

    func testDeleteVariants() throws {
        XCTAssertEqual(try decode(PgOutputFixtures.deleteWithKey), .delete(.init(
            relationOID: 16384, oldTuple: .key(tuple([(.text, "1"), (.null, nil), (.null, nil)])))))
        guard case .delete(let delete) = try decode(PgOutputFixtures.deleteWithOld),
              case .full(let old) = delete.oldTuple else { return XCTFail() }
        XCTAssertEqual(old.string(at: 1), "2.00")
        XCTAssertEqual(old.string(at: 2), "")
    }

    func testTruncateOptions() throws {
        XCTAssertEqual(try decode(PgOutputFixtures.truncateBoth), .truncate(.init(
            options: [.cascade, .restartIdentity], relationOIDs: [16384, 16385])))
        XCTAssertEqual(try decode(PgOutputFixtures.truncateCascade), .truncate(.init(options: .cascade, relationOIDs: [16384])))
        XCTAssertEqual(try decode(PgOutputFixtures.truncatePlain), .truncate(.init(options: [], relationOIDs: [16384])))
    }

    func testLogicalMessages() throws {
        guard case .logicalMessage(let message) = try decode(PgOutputFixtures.messageTransactional) else { return XCTFail() }
        XCTAssertTrue(message.isTransactional)
        XCTAssertEqual(message.prefix, "freshet")
        XCTAssertEqual(message.lsn, LSN(0x1_000_000))
        XCTAssertEqual(message.content, Array("hello".utf8))
        guard case .logicalMessage(let beat) = try decode(PgOutputFixtures.messageNonTransactional) else { return XCTFail() }
        XCTAssertFalse(beat.isTransactional)
        XCTAssertEqual(beat.content, [])
    }

    func testStreamedBlockCarriesXidPrefixes() throws {
        var decoder = PgOutputDecoder(protocolVersion: 2)
        XCTAssertEqual(try decoder.decode(PgOutputFixtures.streamStart), .streamStart(.init(xid: 1000, isFirstSegment: true)))
        XCTAssertTrue(decoder.isInsideStreamedBlock)
        guard case .relation(let relation) = try decoder.decode(PgOutputFixtures.streamedRelation) else { return XCTFail() }
        XCTAssertEqual(relation.xid, 1000)
        XCTAssertEqual(relation.replicaIdentity, .full)
        XCTAssertEqual(try decoder.decode(PgOutputFixtures.streamedType), .type(.init(xid: 1000, oid: 16640, namespace: "", name: "int4")))
        guard case .insert(let insert) = try decoder.decode(PgOutputFixtures.streamedInsert) else { return XCTFail() }
        XCTAssertEqual(insert.xid, 1001)
        XCTAssertEqual(insert.newTuple.string(at: 0), "7")
        guard case .update(let update) = try decoder.decode(PgOutputFixtures.streamedUpdate) else { return XCTFail() }
        XCTAssertEqual(update.xid, 1001)
        guard case .delete(let delete) = try decoder.decode(PgOutputFixtures.streamedDelete) else { return XCTFail() }
        XCTAssertEqual(delete.xid, 1001)
        XCTAssertEqual(try decoder.decode(PgOutputFixtures.streamedTruncate),
                       .truncate(.init(xid: 1000, options: .restartIdentity, relationOIDs: [16384])))
        XCTAssertEqual(try decoder.decode(PgOutputFixtures.streamedMessage),
                       .logicalMessage(.init(xid: 1000, flags: 1, lsn: LSN(0x1_000_000), prefix: "p", content: [0xFF])))
        XCTAssertEqual(try decoder.decode(PgOutputFixtures.streamStop), .streamStop)
        XCTAssertFalse(decoder.isInsideStreamedBlock)
        XCTAssertEqual(try decoder.decode(PgOutputFixtures.streamCommit), .streamCommit(.init(
            xid: 1000, flags: 0, commitLSN: LSN(0x1_000_000), endLSN: LSN(0x1_000_040), commitTimestamp: 1)))
        XCTAssertEqual(try decoder.decode(PgOutputFixtures.streamAbort), .streamAbort(.init(xid: 1000, subtransactionXid: 1001)))
        // Outside the block the same Insert bytes are misread: the xid is taken as the OID and 'N' is missing.
        XCTAssertThrowsError(try decoder.decode(PgOutputFixtures.streamedInsert))
    }

    func testVersionOneDoesNotTakeXidPrefix() throws {
        guard case .insert(let insert) = try decode(hex(#"49 00004000 4E 0001 74 00000001 "7""#)) else { return XCTFail() }
        XCTAssertNil(insert.xid)
        XCTAssertEqual(insert.relationOID, 16384)
    }

    func testStreamAbortWithParallelFields() throws {
        XCTAssertEqual(try decode(PgOutputFixtures.streamAbortParallel, version: 4), .streamAbort(.init(
            xid: 1000, subtransactionXid: 1000, abortLSN: LSN(0x1_000_080), abortTimestamp: 2)))
        XCTAssertEqual(try decode(PgOutputFixtures.streamAbort, version: 4), .streamAbort(.init(xid: 1000, subtransactionXid: 1001)))
        XCTAssertThrowsError(try decode(PgOutputFixtures.streamAbortParallel, version: 2)) { error in
            XCTAssertEqual(error as? PgOutputError, .trailingBytes(kind: 0x41, offset: 9, count: 16))
        }
    }

    func testTwoPhaseMessages() throws {
        XCTAssertEqual(try decode(PgOutputFixtures.beginPrepare, version: 3), .beginPrepare(.init(
            prepareLSN: LSN(0x2_000_000), endLSN: LSN(0x2_000_030), prepareTimestamp: 3, xid: 1002, gid: "gid1")))
        XCTAssertEqual(try decode(PgOutputFixtures.prepare, version: 3), .prepare(.init(
            flags: 0, prepareLSN: LSN(0x2_000_000), endLSN: LSN(0x2_000_030), prepareTimestamp: 3, xid: 1002, gid: "gid1")))
        XCTAssertEqual(try decode(PgOutputFixtures.commitPrepared, version: 3), .commitPrepared(.init(
            flags: 0, commitLSN: LSN(0x2_000_100), endLSN: LSN(0x2_000_130), commitTimestamp: 4, xid: 1002, gid: "gid1")))
        XCTAssertEqual(try decode(PgOutputFixtures.rollbackPrepared, version: 3), .rollbackPrepared(.init(
            flags: 0, prepareEndLSN: LSN(0x2_000_030), rollbackEndLSN: LSN(0x2_000_200), prepareTimestamp: 3,
            rollbackTimestamp: 5, xid: 1002, gid: "gid1")))
        XCTAssertEqual(try decode(PgOutputFixtures.streamPrepare, version: 3), .streamPrepare(.init(
            flags: 0, prepareLSN: LSN(0x2_000_000), endLSN: LSN(0x2_000_030), prepareTimestamp: 3, xid: 1000, gid: "g")))
    }

    func testProtocolVersionGates() {
        XCTAssertThrowsError(try decode(PgOutputFixtures.streamStart, version: 1)) { error in
            XCTAssertEqual(error as? PgOutputError, .requiresProtocolVersion(kind: 0x53, required: 2, configured: 1))
        }
        XCTAssertThrowsError(try decode(PgOutputFixtures.prepare, version: 2)) { error in
            XCTAssertEqual(error as? PgOutputError, .requiresProtocolVersion(kind: 0x50, required: 3, configured: 2))
        }
    }

    func testStreamStateErrors() throws {
        var decoder = PgOutputDecoder(protocolVersion: 2)
        XCTAssertThrowsError(try decoder.decode(PgOutputFixtures.streamStop)) { error in
            XCTAssertEqual(error as? PgOutputError, .unexpectedStreamState(kind: 0x45, insideStreamedBlock: false))
        }
        _ = try decoder.decode(PgOutputFixtures.streamStart)
        XCTAssertThrowsError(try decoder.decode(PgOutputFixtures.streamStart))
        XCTAssertTrue(decoder.isInsideStreamedBlock, "a failed message leaves the state unchanged")
    }

    func testDecodesFromASliceOfALargerBuffer() throws {
        let framed = [UInt8](repeating: 0x77, count: 25) + PgOutputFixtures.insert + [0xAA]
        var decoder = PgOutputDecoder()
        guard case .insert(let insert) = try decoder.decode(framed[25..<framed.count - 1]) else { return XCTFail() }
        XCTAssertEqual(insert.newTuple.string(at: 0), "42")
        XCTAssertEqual(insert.newTuple.bytes(at: 2).map(Array.init), [0xDE, 0xAD, 0xBE, 0xEF])
    }

    func testTypedErrorsCarryContext() {
        XCTAssertThrowsError(try decode([])) { XCTAssertEqual($0 as? PgOutputError, .emptyMessage) }
        XCTAssertThrowsError(try decode([0x5A])) { XCTAssertEqual($0 as? PgOutputError, .unknownMessageKind(kind: 0x5A)) }
        XCTAssertThrowsError(try decode(Array(PgOutputFixtures.begin.dropLast()))) {
            XCTAssertEqual($0 as? PgOutputError, .truncated(kind: 0x42, offset: 17, expected: "Int32 xid"))
        }
        XCTAssertThrowsError(try decode(PgOutputFixtures.commit + [0])) {
            XCTAssertEqual($0 as? PgOutputError, .trailingBytes(kind: 0x43, offset: 26, count: 1))
        }
        // 60000 columns announced with 3 bytes left: rejected before allocating.
        XCTAssertThrowsError(try decode(hex("49 00004000 4E EA60 6E 6E 6E"))) {
            XCTAssertEqual($0 as? PgOutputError, .invalidCount(kind: 0x49, offset: 6, field: "Int16 tuple column count", count: -5536))
        }
        XCTAssertThrowsError(try decode(hex("49 00004000 4E 7FFF 6E 6E 6E"))) {
            XCTAssertEqual($0 as? PgOutputError, .invalidCount(kind: 0x49, offset: 6, field: "Int16 tuple column count", count: 32767))
        }
        XCTAssertThrowsError(try decode(hex("49 00004000 4E 0001 74 7FFFFFFF 00"))) {
            XCTAssertEqual($0 as? PgOutputError, .invalidCount(kind: 0x49, offset: 9, field: "Int32 column value length", count: 0x7FFF_FFFF))
        }
        XCTAssertThrowsError(try decode(hex("49 00004000 4E 0001 78"))) {
            XCTAssertEqual($0 as? PgOutputError, .unexpectedByte(kind: 0x49, offset: 8, found: 0x78,
                                                                 expected: "tuple column kind 'n', 'u', 't' or 'b'"))
        }
        XCTAssertThrowsError(try decode(hex("49 00004000 58 0000"))) {
            XCTAssertEqual($0 as? PgOutputError, .unexpectedByte(kind: 0x49, offset: 5, found: 0x58, expected: "'N' (new tuple)"))
        }
        XCTAssertThrowsError(try decode(hex(#"4F 0000000000001000 "node1""#))) {
            XCTAssertEqual($0 as? PgOutputError, .unterminatedString(kind: 0x4F, offset: 9, field: "origin name"))
        }
        XCTAssertThrowsError(try decode(hex("4F 0000000000001000 C3 28 00"))) {
            XCTAssertEqual($0 as? PgOutputError, .invalidUTF8(kind: 0x4F, offset: 9, field: "origin name"))
        }
        XCTAssertThrowsError(try decode(hex(#"52 00004000 "s" 00 "t" 00 78 0000"#))) {
            XCTAssertEqual($0 as? PgOutputError, .unexpectedByte(kind: 0x52, offset: 9, found: 0x78,
                                                                 expected: "replica identity 'd', 'n', 'f' or 'i'"))
        }
        XCTAssertThrowsError(try decode(hex("54 7FFFFFFF 00 00004000"))) {
            XCTAssertEqual($0 as? PgOutputError, .invalidCount(kind: 0x54, offset: 1, field: "Int32 relation count", count: 0x7FFF_FFFF))
        }
        XCTAssertEqual(PgOutputError.truncated(kind: 0x42, offset: 17, expected: "Int32 xid").description,
                       "pgoutput 'B' (0x42): message ends at offset 17, expected Int32 xid")
    }
}
