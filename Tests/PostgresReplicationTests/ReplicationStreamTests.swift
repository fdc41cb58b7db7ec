import Foundation
import PostgresReplication
import TestSupport
import XCTest

/// The replication connection and CopyBoth stream against the sandbox server (raw XLogData level).
final class ReplicationStreamTests: XCTestCase {
    func testIdentifyCreateStreamConfirmDrop() throws {
        let pg = try PostgresFixture()
        defer { pg.cleanup() }
        let table = pg.name("items")
        try pg.sql.execute("CREATE TABLE \(SQLQuoting.identifier(table)) (id int PRIMARY KEY, v text)")
        let pub = try pg.createPublication("pub", tables: [table])

        let repl = try ReplicationConnection(pg.url)
        let system = try repl.identifySystem()
        XCTAssertFalse(system.systemID.isEmpty)
        XCTAssertEqual(system.database, "freshet")
        XCTAssertEqual(system.systemID, try pg.sql.execute("SELECT system_identifier::text FROM pg_control_system()").scalar)

        let slotName = pg.name("slot")
        pg.trackSlot(slotName)
        let slot = try repl.createSlot(slotName, snapshot: .nothing)
        XCTAssertEqual(slot.name, slotName)
        XCTAssertNil(slot.snapshotName)
        XCTAssertGreaterThan(slot.consistentPoint, .zero)

        try pg.sql.execute("INSERT INTO \(SQLQuoting.identifier(table)) VALUES (1, 'one'), (2, 'two')")
        let stream = try repl.startReplication(slot: slotName, options: ReplicationOptions(publications: [pub]))
        var kinds: [Character] = []
        var commitEnd = LSN.zero
        while !kinds.contains("C") {
            guard let event = try stream.next(timeout: 10) else { return XCTFail("no data within 10 s") }
            if case let .data(x) = event, let first = x.payload.first {
                kinds.append(Character(UnicodeScalar(first)))
                if first == UInt8(ascii: "C") { commitEnd = x.startLSN }
            }
        }
        XCTAssertEqual(kinds, ["B", "R", "I", "I", "C"])
        XCTAssertGreaterThan(commitEnd, slot.consistentPoint)

        // Nothing is confirmed until the caller says so; then the slot's confirmed_flush_lsn moves to exactly that.
        let before = try XCTUnwrap(LSN(try XCTUnwrap(pg.sql.query(
            "SELECT confirmed_flush_lsn::text FROM pg_replication_slots WHERE slot_name = $1", [slotName]).scalar)))
        XCTAssertLessThan(before, commitEnd)
        stream.confirm(commitEnd)
        var confirmed = before
        for _ in 0..<50 where confirmed != commitEnd {
            _ = try stream.next(timeout: 0.1)
            confirmed = LSN(try pg.sql.query("SELECT confirmed_flush_lsn::text FROM pg_replication_slots WHERE slot_name = $1",
                                             [slotName]).scalar ?? "") ?? .zero
        }
        XCTAssertEqual(confirmed, commitEnd)
        stream.confirm(LSN(commitEnd.value - 1))   // never moves backwards
        XCTAssertEqual(stream.confirmed, commitEnd)

        try stream.stop()
        repl.connection.close()
        // The slot is inactive now and can be dropped over a fresh replication connection.
        let repl2 = try ReplicationConnection(pg.url)
        for _ in 0..<50 {
            if (try? repl2.dropSlot(slotName)) != nil { break }
            usleep(100_000)
        }
        XCTAssertTrue(try pg.sql.query("SELECT 1 FROM pg_replication_slots WHERE slot_name = $1", [slotName]).rows.isEmpty)
    }

    func testIdleStreamOutlivesWalSenderTimeout() throws {
        let pg = try PostgresFixture()
        defer {
            pg.cleanup()
            _ = try? pg.sql.execute("ALTER SYSTEM RESET wal_sender_timeout")
            _ = try? pg.sql.execute("SELECT pg_reload_conf()")
        }
        let table = pg.name("idle")
        try pg.sql.execute("CREATE TABLE \(SQLQuoting.identifier(table)) (id int PRIMARY KEY)")
        let pub = try pg.createPublication("pub", tables: [table])
        try pg.sql.execute("ALTER SYSTEM SET wal_sender_timeout = '2s'")
        try pg.sql.execute("SELECT pg_reload_conf()")

        let repl = try ReplicationConnection(pg.url)
        let slotName = pg.name("slot")
        pg.trackSlot(slotName)
        _ = try repl.createSlot(slotName, temporary: true, snapshot: .nothing)
        XCTAssertEqual(try repl.connection.execute("SHOW wal_sender_timeout").scalar, "2s")
        let stream = try repl.startReplication(slot: slotName, options: ReplicationOptions(publications: [pub], statusInterval: 10))
        let pid = try XCTUnwrap(pg.sql.query("SELECT active_pid::text FROM pg_replication_slots WHERE slot_name = $1", [slotName]).scalar)

        // 8 s idle = 4× the timeout. Keepalives asking for a reply must be answered at once.
        var keepalivesAskingReply = 0
        let end = Date().addingTimeInterval(8)
        while Date() < end {
            if case let .keepalive(k)? = try stream.next(timeout: 0.5), k.replyRequested { keepalivesAskingReply += 1 }
        }
        XCTAssertGreaterThan(keepalivesAskingReply, 0, "the server should have asked for replies")
        // Same walsender still serving us, and data still flows.
        XCTAssertEqual(try pg.sql.query("SELECT active_pid::text FROM pg_replication_slots WHERE slot_name = $1", [slotName]).scalar, pid)
        try pg.sql.execute("INSERT INTO \(SQLQuoting.identifier(table)) VALUES (1)")
        var sawInsert = false
        let deadline = Date().addingTimeInterval(10)
        while !sawInsert && Date() < deadline {
            if case let .data(x)? = try stream.next(timeout: 1), x.payload.first == UInt8(ascii: "I") { sawInsert = true }
        }
        XCTAssertTrue(sawInsert)
    }

    func testServerGoneMidStreamIsATypedError() throws {
        let pg = try PostgresFixture()
        defer { pg.cleanup() }
        let table = pg.name("gone")
        try pg.sql.execute("CREATE TABLE \(SQLQuoting.identifier(table)) (id int PRIMARY KEY)")
        let pub = try pg.createPublication("pub", tables: [table])
        let repl = try ReplicationConnection(pg.url)
        let slotName = pg.name("slot")
        pg.trackSlot(slotName)
        _ = try repl.createSlot(slotName, temporary: true, snapshot: .nothing)
        let stream = try repl.startReplication(slot: slotName, options: ReplicationOptions(publications: [pub]))
        _ = try stream.next(timeout: 0.2)
        try pg.sql.query("SELECT pg_terminate_backend(active_pid) FROM pg_replication_slots WHERE slot_name = $1", [slotName])
        XCTAssertThrowsError(try { for _ in 0..<100 { _ = try stream.next(timeout: 0.1) } }()) { error in
            guard let error = error as? PostgresError else { return XCTFail("untyped error \(error)") }
            switch error {
            case .connectionLost, .server: break
            default: XCTFail("unexpected \(error)")
            }
            XCTAssertFalse("\(error)".contains(try! ConnectionSettings(pg.url)["password"]!))
        }
    }

    func testClearErrorsForMissingPublicationAndActiveSlot() throws {
        let pg = try PostgresFixture()
        defer { pg.cleanup() }
        let repl = try ReplicationConnection(pg.url)
        let slotName = pg.name("slot")
        pg.trackSlot(slotName)
        _ = try repl.createSlot(slotName, snapshot: .nothing)
        // A publication that does not exist: the server reports it when decoding starts.
        let stream = try repl.startReplication(slot: slotName, options: ReplicationOptions(publications: [pg.name("nopub")]))
        try pg.sql.execute("CREATE TABLE \(SQLQuoting.identifier(pg.name("x"))) (id int primary key)")
        try pg.sql.execute("INSERT INTO \(SQLQuoting.identifier(pg.name("x"))) VALUES (1)")
        XCTAssertThrowsError(try { for _ in 0..<100 { _ = try stream.next(timeout: 0.1) } }()) { error in
            XCTAssertTrue("\(error)".contains("publication") && "\(error)".contains("does not exist"), "\(error)")
        }
        // A slot that another walsender is using.
        let holder = try ReplicationConnection(pg.url)
        let slot2 = pg.name("slot2")
        pg.trackSlot(slot2)
        _ = try holder.createSlot(slot2, snapshot: .nothing)
        let pub = try pg.createPublication("pub", tables: [pg.name("x")])
        let active = try holder.startReplication(slot: slot2, options: ReplicationOptions(publications: [pub]))
        _ = try active.next(timeout: 0.2)
        let other = try ReplicationConnection(pg.url)
        XCTAssertThrowsError(try other.startReplication(slot: slot2, options: ReplicationOptions(publications: [pub]))) { error in
            XCTAssertEqual((error as? PostgresError)?.sqlState, "55006", "\(error)")   // object_in_use
            XCTAssertTrue("\(error)".contains("is active"), "\(error)")
        }
    }
}
