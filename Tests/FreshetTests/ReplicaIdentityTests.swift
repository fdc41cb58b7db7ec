import Foundation
import PostgresReplication
import TestSupport
import XCTest

/// `REPLICA IDENTITY USING INDEX`, end to end against the sandbox PostgreSQL. DELETEs and key-changing UPDATEs then
/// carry only the index's columns: an index that holds every key column replicates like the primary key; one that does
/// not (a unique index on another column) would lose those DELETEs and key changes silently, so the table is left out
/// of the publication and reported with the fix, before the start and when set while streaming.
final class ReplicaIdentityTests: XCTestCase {
    typealias Scenario = EndToEndTests.Scenario

    func testIdentityIndexWithoutTheKeyIsReportedAndOneWithItReplicates() throws {
        let s = try Scenario(rows: 300)
        defer { s.cleanup() }
        let q = s.quotedSchema
        try s.pg.sql.execute("""
            CREATE TABLE \(q).byindex (id int PRIMARY KEY, code text NOT NULL, v text);
            CREATE UNIQUE INDEX byindex_code ON \(q).byindex (code);
            ALTER TABLE \(q).byindex REPLICA IDENTITY USING INDEX byindex_code;
            INSERT INTO \(q).byindex SELECT g, 'c' || g, 'v' || g FROM generate_series(1, 10) g;
            CREATE TABLE \(q).covering (id int PRIMARY KEY, code text NOT NULL, v text);
            CREATE UNIQUE INDEX covering_code_id ON \(q).covering (code, id);
            ALTER TABLE \(q).covering REPLICA IDENTITY USING INDEX covering_code_id;
            INSERT INTO \(q).covering SELECT g, 'c' || g, 'v' || g FROM generate_series(1, 10) g;
            """)
        let process = try s.startCaughtUp()
        defer { process.killAndWait() }
        try s.pg.sql.execute("""
            DELETE FROM \(q).covering WHERE id = 1; UPDATE \(q).covering SET id = 100 WHERE id = 2;
            UPDATE \(q).covering SET code = 'changed' WHERE id = 3;
            DELETE FROM \(q).byindex WHERE id = 1; UPDATE \(q).byindex SET id = 100 WHERE id = 2;
            """)
        try s.waitCaughtUp()
        try s.compare(tables: ["\(s.schema).covering", "\(s.schema).items"])
        XCTAssertFalse(try s.storeTables().contains("\(s.schema).byindex"))
        XCTAssertTrue(s.log.contains("source.unreplicable_table") && s.log.contains("\(s.schema).byindex")
                      && s.log.contains("REPLICA IDENTITY DEFAULT"), s.log)

        // Set while streaming: the table leaves the publication and is reported.
        try s.pg.sql.execute("""
            ALTER TABLE \(q).plain ALTER COLUMN v SET NOT NULL;
            CREATE UNIQUE INDEX plain_v ON \(q).plain (v);
            ALTER TABLE \(q).plain REPLICA IDENTITY USING INDEX plain_v;
            """)
        try waitForPublication(s, containing: false)
        let published = try s.pg.sql.query("SELECT tablename FROM pg_publication_tables WHERE pubname = $1 ORDER BY 1",
                                           [s.publication]).rows.compactMap { $0[0] }
        XCTAssertEqual(published, ["covering", "events", "items"], s.log)
        XCTAssertTrue(s.log.contains("\(s.schema).plain"), s.log)
    }

    /// A table without a primary key whose REPLICA IDENTITY is a unique index (on NOT NULL columns, as PostgreSQL
    /// requires) is keyed by that index's columns, in the index's order: inserts, updates, key changes and deletes
    /// all arrive keyed, and the store equals the source.
    func testTableWithoutPrimaryKeyIsKeyedByItsIdentityIndex() throws {
        let s = try Scenario(rows: 300)
        defer { s.cleanup() }
        let q = s.quotedSchema
        let table = "\(s.schema).nopk"
        try s.pg.sql.execute("""
            CREATE TABLE \(q).nopk (v text, code text NOT NULL, region int NOT NULL, n int);
            CREATE UNIQUE INDEX nopk_region_code ON \(q).nopk (region, code);
            ALTER TABLE \(q).nopk REPLICA IDENTITY USING INDEX nopk_region_code;
            INSERT INTO \(q).nopk SELECT 'v' || g, 'c' || g, g % 3, g FROM generate_series(1, 50) g;
            """)
        let process = try s.startCaughtUp()
        defer { process.killAndWait() }
        let manifest = try XCTUnwrap(try s.storeManifests().first { $0["table"] as? String == table }, s.log)
        XCTAssertEqual(manifest["keyColumns"] as? [String], ["region", "code"])
        try s.pg.sql.execute("""
            INSERT INTO \(q).nopk SELECT 'new' || g, 'n' || g, 7, g FROM generate_series(1, 20) g;
            UPDATE \(q).nopk SET v = 'updated' WHERE n BETWEEN 5 AND 9;
            UPDATE \(q).nopk SET code = 'moved' || n WHERE n BETWEEN 10 AND 14;
            UPDATE \(q).nopk SET region = 9 WHERE n = 15;
            DELETE FROM \(q).nopk WHERE n BETWEEN 16 AND 20;
            """)
        try s.waitCaughtUp()
        try s.compare(tables: [table])
        XCTAssertFalse(s.log.contains("source.unreplicable_table"), s.log)
    }

    /// A primary key replaced while streaming: the store keeps its key (`id`), which the WAL's DELETEs no longer
    /// carry. The table is reported and left out until REPLICA IDENTITY FULL gives them every column again; a resync
    /// then brings back what was missed.
    func testChangedPrimaryKeyIsReportedUntilTheIdentityCarriesTheStoredKey() throws {
        let s = try Scenario(rows: 300)
        defer { s.cleanup() }
        let q = s.quotedSchema
        let plain = "\(s.schema).plain"
        let process = try s.startCaughtUp()
        defer { process.killAndWait() }
        try s.pg.sql.execute("ALTER TABLE \(q).plain DROP CONSTRAINT plain_pkey, ADD PRIMARY KEY (u)")
        try waitForPublication(s, containing: false)
        try s.pg.sql.execute("DELETE FROM \(q).plain WHERE id < 5; UPDATE \(q).plain SET id = -id WHERE id BETWEEN 5 AND 9")
        XCTAssertTrue(s.log.contains("its key changed") && s.log.contains("REPLICA IDENTITY FULL"), s.log)

        try s.pg.sql.execute("ALTER TABLE \(q).plain REPLICA IDENTITY FULL")
        try waitForPublication(s, containing: true)
        try s.resync([plain])
        try s.waitForResyncs(done: 1)
        try s.pg.sql.execute("DELETE FROM \(q).plain WHERE id BETWEEN 10 AND 14; UPDATE \(q).plain SET id = -id WHERE id BETWEEN 15 AND 19")
        try s.waitCaughtUp()
        try s.compare(tables: [plain])
    }

    /// Waits until the scenario's publication lists (or no longer lists) `plain`.
    private func waitForPublication(_ s: Scenario, containing: Bool, file: StaticString = #filePath, line: UInt = #line) throws {
        let end = Date().addingTimeInterval(30)
        while Date() < end {
            let published = try s.pg.sql.query("SELECT tablename FROM pg_publication_tables WHERE pubname = $1",
                                               [s.publication]).rows.compactMap { $0[0] }
            if published.contains("plain") == containing { return }
            usleep(300_000)
        }
        XCTFail("plain \(containing ? "not" : "still") published; log:\n\(s.log)", file: file, line: line)
    }
}
