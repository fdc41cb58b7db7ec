import Foundation
import PostgresReplication
import TestSupport
import XCTest

/// Every pgoutput message kind, decoded from a real stream that SQL statements produced on the sandbox server.
final class PgOutputStreamTests: XCTestCase {
    /// A slot + stream on fresh tables, and a way to collect decoded messages.
    final class Capture {
        let pg: PostgresFixture
        let repl: ReplicationConnection
        let stream: ReplicationStream
        var decoder: PgOutputDecoder
        var relations = RelationCache()

        init(_ pg: PostgresFixture, tables: [String], protocolVersion: Int = 1, streaming: Bool = false,
             workMem: String? = nil) throws {
            self.pg = pg
            let pub = try pg.createPublication("pub", tables: tables)
            var settings = try ConnectionSettings(pg.url)
            if let workMem { settings.set("options", "-c logical_decoding_work_mem=\(workMem)") }
            repl = try ReplicationConnection(settings: settings)
            let slot = pg.name("slot")
            pg.trackSlot(slot)
            _ = try repl.createSlot(slot, temporary: true, snapshot: .nothing)
            stream = try repl.startReplication(slot: slot, options: ReplicationOptions(
                protocolVersion: protocolVersion, publications: [pub], messages: true, streaming: streaming))
            decoder = PgOutputDecoder(protocolVersion: protocolVersion)
        }

        /// Decodes messages until `stop` says so (or fails after `timeout` seconds of nothing).
        func collect(timeout: Double = 20, until stop: (PgOutputMessage, [PgOutputMessage]) -> Bool) throws -> [PgOutputMessage] {
            var out: [PgOutputMessage] = []
            var last = Date()
            while Date().timeIntervalSince(last) < timeout {
                guard case let .data(x)? = try stream.next(timeout: 0.5) else { continue }
                last = Date()
                let m = try decoder.decode(x.payload)
                if case let .relation(r) = m { relations.update(r) }
                out.append(m)
                if stop(m, out) { return out }
            }
            XCTFail("timed out after \(out.count) messages")
            return out
        }

        /// Messages of the next `n` transactions (Begin … Commit).
        func transactions(_ n: Int) throws -> [PgOutputMessage] {
            var commits = 0
            return try collect { m, _ in
                if case .commit = m { commits += 1 }
                if case .streamCommit = m { commits += 1 }
                return commits == n
            }
        }
    }

    func q(_ s: String) -> String { SQLQuoting.identifier(s) }

    func testInsertUpdateDeleteWithDefaultAndFullIdentity() throws {
        let pg = try PostgresFixture(); defer { pg.cleanup() }
        let a = pg.name("a"), f = pg.name("f")
        try pg.sql.execute("CREATE TABLE \(q(a)) (id int PRIMARY KEY, v text, n int)")
        try pg.sql.execute("CREATE TABLE \(q(f)) (id int PRIMARY KEY, v text); ALTER TABLE \(q(f)) REPLICA IDENTITY FULL")
        let cap = try Capture(pg, tables: [a, f])
        try pg.sql.execute("""
            BEGIN; INSERT INTO \(q(a)) VALUES (1, 'one', NULL), (2, '', 5); UPDATE \(q(a)) SET v = 'uno' WHERE id = 1;
            UPDATE \(q(a)) SET id = 3 WHERE id = 2; DELETE FROM \(q(a)) WHERE id = 1; COMMIT;
            """)
        // Separate commands: a multi-statement simple query would be one implicit transaction.
        try pg.sql.execute("INSERT INTO \(q(f)) VALUES (1, 'x')")
        try pg.sql.execute("UPDATE \(q(f)) SET v = 'y'")
        try pg.sql.execute("DELETE FROM \(q(f))")
        let msgs = try cap.transactions(4)
        let kinds = msgs.map(kind)
        XCTAssertEqual(kinds, ["B", "R", "I", "I", "U", "U", "D", "C", "B", "R", "I", "C", "B", "U", "C", "B", "D", "C"])
        // Begin/Commit LSNs agree; the commit's end LSN is above its commit LSN.
        guard case let .begin(b) = msgs[0], case let .commit(c) = msgs[7] else { return XCTFail() }
        XCTAssertEqual(b.finalLSN, c.commitLSN)
        XCTAssertGreaterThan(c.endLSN, c.commitLSN)
        // Relation: key flags and replica identity.
        guard case let .relation(ra) = msgs[1], case let .relation(rf) = msgs[9] else { return XCTFail() }
        XCTAssertEqual(ra.name, a); XCTAssertEqual(ra.namespace, "public")
        XCTAssertEqual(ra.replicaIdentity, .default)
        XCTAssertEqual(ra.columns.map(\.name), ["id", "v", "n"])
        XCTAssertEqual(ra.columns.map(\.isKey), [true, false, false])
        XCTAssertEqual(ra.columns.map(\.typeOID), [TypeOID.int4, TypeOID.text, TypeOID.int4])
        XCTAssertEqual(rf.replicaIdentity, .full)
        // NULL vs empty string.
        guard case let .insert(i1) = msgs[2], case let .insert(i2) = msgs[3] else { return XCTFail() }
        XCTAssertEqual(i1.newTuple.string(at: 0), "1"); XCTAssertTrue(i1.newTuple.isNull(at: 2))
        XCTAssertEqual(i2.newTuple.kind(at: 1), .text); XCTAssertEqual(i2.newTuple.string(at: 1), "")
        // Update without key change: no old tuple. With key change: K tuple with the old key.
        guard case let .update(u1) = msgs[4], case let .update(u2) = msgs[5] else { return XCTFail() }
        XCTAssertNil(u1.oldTuple)
        XCTAssertEqual(u1.newTuple.string(at: 1), "uno")
        guard case let .key(oldKey)? = u2.oldTuple else { return XCTFail("expected K tuple") }
        XCTAssertEqual(oldKey.string(at: 0), "2"); XCTAssertTrue(oldKey.isNull(at: 1))
        XCTAssertEqual(u2.newTuple.string(at: 0), "3")
        // Delete with DEFAULT identity: key only.
        guard case let .delete(d1) = msgs[6], case let .key(dk) = d1.oldTuple else { return XCTFail() }
        XCTAssertEqual(dk.string(at: 0), "1"); XCTAssertTrue(dk.isNull(at: 1))
        // FULL identity: O tuples with whole rows.
        guard case let .update(uf) = msgs[13], case let .full(ufo)? = uf.oldTuple else { return XCTFail("expected O tuple") }
        XCTAssertEqual(ufo.string(at: 1), "x"); XCTAssertEqual(uf.newTuple.string(at: 1), "y")
        guard case let .delete(df) = msgs[16], case let .full(dfo) = df.oldTuple else { return XCTFail() }
        XCTAssertEqual(dfo.string(at: 1), "y")
    }

    func testUnchangedToastTruncateAlterMessagesTypeAndOrigin() throws {
        let pg = try PostgresFixture(); defer { pg.cleanup() }
        let t = pg.name("t"), u = pg.name("u"), e = pg.name("mood")
        try pg.sql.execute("CREATE TYPE \(q(e)) AS ENUM ('sad', 'happy')")
        defer { _ = try? pg.sql.execute("DROP TABLE IF EXISTS \(q(t)), \(q(u)); DROP TYPE IF EXISTS \(q(e))") }
        try pg.sql.execute("CREATE TABLE \(q(t)) (id int PRIMARY KEY, big text, n int, m \(q(e)))")
        try pg.sql.execute("CREATE TABLE \(q(u)) (id serial PRIMARY KEY)")
        let cap = try Capture(pg, tables: [t, u])
        // A large value that is stored out of line (TOAST): random text does not compress.
        try pg.sql.execute("INSERT INTO \(q(t)) SELECT 1, string_agg(md5(g::text), '') FROM generate_series(1, 500) g")
        try pg.sql.execute("UPDATE \(q(t)) SET n = 42 WHERE id = 1")
        try pg.sql.execute("INSERT INTO \(q(u)) DEFAULT VALUES")
        try pg.sql.execute("TRUNCATE \(q(t)), \(q(u)) RESTART IDENTITY CASCADE")
        try pg.sql.execute("ALTER TABLE \(q(t)) ADD COLUMN extra numeric(5,1) DEFAULT 1.5")
        try pg.sql.execute("INSERT INTO \(q(t)) (id, big, m) VALUES (2, 'small', 'happy')")
        try pg.sql.execute("ALTER TABLE \(q(t)) DROP COLUMN n")
        try pg.sql.execute("INSERT INTO \(q(t)) (id, big) VALUES (3, 'after drop')")
        try pg.sql.execute("SELECT pg_logical_emit_message(true, 'freshet-test', 'in a transaction')")
        try pg.sql.execute("SELECT pg_logical_emit_message(false, 'freshet-test', 'outside')")
        let msgs = try cap.collect { m, _ in
            if case let .logicalMessage(l) = m, !l.isTransactional { return true }
            return false
        }
        // The TOASTed value is 'u' in the update, not NULL and not a value.
        let updates = msgs.compactMap { if case let .update(x) = $0 { return x } else { return nil } }
        XCTAssertEqual(updates.count, 1)
        XCTAssertEqual(updates.first?.newTuple.kind(at: 1), .unchangedToast)
        XCTAssertEqual(updates.first?.newTuple.string(at: 2), "42")
        let inserts = msgs.compactMap { if case let .insert(x) = $0 { return x } else { return nil } }
        XCTAssertEqual(inserts.first?.newTuple.string(at: 1)?.count, 16000)
        // One Truncate message naming both tables, with the option bits.
        let truncates = msgs.compactMap { if case let .truncate(x) = $0 { return x } else { return nil } }
        XCTAssertEqual(truncates.count, 1)
        XCTAssertEqual(truncates.first?.relationOIDs.count, 2)
        XCTAssertEqual(truncates.first?.options, [.cascade, .restartIdentity])
        // ALTER TABLE: a new Relation before the next change, with the added / without the dropped column.
        // (The server may resend an unchanged Relation, e.g. after TRUNCATE invalidates its cache: keep distinct layouts.)
        var relations: [RelationMessage] = []
        for case let .relation(r) in msgs where r.name == t && relations.last?.columns != r.columns { relations.append(r) }
        guard relations.count == 3 else { return XCTFail("relations: \(relations.map { $0.columns.map(\.name) })") }
        XCTAssertEqual(relations.map { $0.columns.map(\.name) },
                       [["id", "big", "n", "m"], ["id", "big", "n", "m", "extra"], ["id", "big", "m", "extra"]])
        XCTAssertEqual(relations[1].columns[4].typeOID, TypeOID.numeric)
        XCTAssertEqual(relations[1].columns[4].typeModifier, (5 << 16 | 1) + 4)
        // The enum column: a Type message precedes the Relation that uses it.
        let types = msgs.compactMap { if case let .type(y) = $0 { return y } else { return nil } }
        XCTAssertEqual(types.first?.name, e)
        XCTAssertEqual(types.first?.oid, relations[0].columns[3].typeOID)
        XCTAssertEqual(inserts.last?.newTuple.string(at: 3), "1.5")   // default of the added column
        XCTAssertEqual(inserts[inserts.count - 2].newTuple.string(at: 3), "happy")
        // Logical messages, transactional (inside Begin/Commit) and not.
        let lms = msgs.compactMap { if case let .logicalMessage(l) = $0 { return l } else { return nil } }
        XCTAssertEqual(lms.map(\.isTransactional), [true, false])
        XCTAssertEqual(lms.map(\.prefix), ["freshet-test", "freshet-test"])
        XCTAssertEqual(lms.map { String(decoding: $0.content, as: UTF8.self) }, ["in a transaction", "outside"])
        guard let idx = msgs.firstIndex(where: { if case .logicalMessage = $0 { return true }; return false }) else { return XCTFail() }
        XCTAssertEqual(kind(msgs[idx - 1]), "B"); XCTAssertEqual(kind(msgs[idx + 1]), "C")
    }

    func testOriginMessage() throws {
        let pg = try PostgresFixture(); defer { pg.cleanup() }
        let t = pg.name("o")
        try pg.sql.execute("CREATE TABLE \(q(t)) (id int PRIMARY KEY)")
        let cap = try Capture(pg, tables: [t])
        let origin = pg.name("origin")
        let other = try Connection(pg.url)
        try other.execute("SELECT pg_replication_origin_create(\(SQLQuoting.literal(origin)))")
        defer { _ = try? pg.sql.execute("SELECT pg_replication_origin_drop(\(SQLQuoting.literal(origin)))") }
        try other.execute("SELECT pg_replication_origin_session_setup(\(SQLQuoting.literal(origin)))")
        try other.execute("BEGIN; SELECT pg_replication_origin_xact_setup('0/AB', now()); INSERT INTO \(q(t)) VALUES (1); COMMIT")
        try other.execute("SELECT pg_replication_origin_session_reset()")
        other.close()
        let msgs = try cap.transactions(1)
        XCTAssertEqual(msgs.map(kind), ["B", "O", "R", "I", "C"])
        guard case let .origin(o) = msgs[1] else { return XCTFail() }
        XCTAssertEqual(o.name, origin)
        XCTAssertEqual(o.commitLSN, LSN(0xAB))
    }

    func testLargeTransactionArrivesInStreamingModeAndAbortedOneIsAnnounced() throws {
        let pg = try PostgresFixture(); defer { pg.cleanup() }
        let t = pg.name("big")
        try pg.sql.execute("CREATE TABLE \(q(t)) (id int PRIMARY KEY, v text)")
        let cap = try Capture(pg, tables: [t], protocolVersion: 2, streaming: true, workMem: "64kB")
        try pg.sql.execute("BEGIN; INSERT INTO \(q(t)) SELECT 1000000 + g, 'r' FROM generate_series(1, 20000) g; ROLLBACK")
        try pg.sql.execute("INSERT INTO \(q(t)) SELECT g, 'row ' || g FROM generate_series(1, 200000) g")
        var inserts = 0, streamStarts = 0, aborts = 0, xidsOK = true
        var openXid: UInt32?
        var commit: PgOutputMessage.StreamCommit?
        _ = try cap.collect(timeout: 60) { m, _ in
            switch m {
            case let .streamStart(s): streamStarts += 1; openXid = s.xid
            case .streamStop: openXid = nil
            case let .insert(i):
                if i.xid == nil || i.xid != openXid { xidsOK = false }
                if i.newTuple.string(at: 0).flatMap(Int.init).map({ $0 <= 200000 }) == true { inserts += 1 }
            case .streamAbort: aborts += 1
            case let .streamCommit(c): commit = c; return true
            default: break
            }
            return false
        }
        XCTAssertEqual(aborts, 1, "the rolled-back streamed transaction is announced with Stream Abort")
        XCTAssertEqual(inserts, 200_000)
        XCTAssertGreaterThan(streamStarts, 2, "a 200k-row transaction must arrive in several streamed blocks")
        XCTAssertTrue(xidsOK, "every streamed change carries the xid of its Stream Start")
        XCTAssertNotNil(commit)
        if let commit { XCTAssertGreaterThan(commit.endLSN, commit.commitLSN) }
    }

    private func kind(_ m: PgOutputMessage) -> String {
        switch m {
        case .begin: return "B"
        case .commit: return "C"
        case .origin: return "O"
        case .relation: return "R"
        case .type: return "Y"
        case .insert: return "I"
        case .update: return "U"
        case .delete: return "D"
        case .truncate: return "T"
        case .logicalMessage: return "M"
        case .streamStart: return "S"
        case .streamStop: return "E"
        case .streamCommit: return "c"
        case .streamAbort: return "A"
        default: return "?"
        }
    }
}
