import Foundation
@testable import Freshet
import PostgresReplication
import TestSupport
import XCTest

/// DDL committed after `freshet run` planned its tables and before the slot exported its snapshot: the snapshot
/// copies the tables as that snapshot's catalog has them. Values written into a column added in that window are in
/// no WAL the slot sends, so a copy of the planned columns would lose them for good.
final class SnapshotReplanTests: XCTestCase {
    func testDDLBetweenPlanningAndTheSlotIsCopiedAsTheSnapshotHasIt() throws {
        let scenario = try EndToEndTests.Scenario(rows: 400)
        defer { scenario.cleanup() }
        let s = scenario.quotedSchema
        let gate = scenario.store + ".gate"
        defer { try? FileManager.default.removeItem(atPath: gate); try? FileManager.default.removeItem(atPath: gate + ".waiting") }
        let process = try scenario.start(environment: ["FRESHET_TEST_PAUSE_BEFORE_SLOT_CREATE": gate])
        let end = Date().addingTimeInterval(120)
        while !FileManager.default.fileExists(atPath: gate + ".waiting") {
            guard Date() < end, process.isRunning else { return XCTFail("freshet never reached slot creation:\n\(scenario.log)") }
            usleep(20_000)
        }
        // The planned columns change before the snapshot exists: a column added and filled (the fill is before the
        // consistent point: only the snapshot can carry it), a column dropped, a column renamed, a table dropped.
        try scenario.pg.sql.execute("""
            ALTER TABLE \(s).items ADD COLUMN extra int;
            UPDATE \(s).items SET extra = id % 9 WHERE id % 3 = 0;
            ALTER TABLE \(s).items DROP COLUMN flag;
            ALTER TABLE \(s).events RENAME COLUMN payload TO body;
            DROP TABLE \(s).plain
            """)
        FileManager.default.createFile(atPath: gate, contents: Data())
        try scenario.waitCaughtUp()
        XCTAssertTrue(scenario.log.contains("snapshot.table_changed"), scenario.log)
        try scenario.compare(tables: ["\(scenario.schema).items", "\(scenario.schema).events"])
        // The store's items have the added column's values and not the dropped column.
        let rows = try scenario.scanRows("\(scenario.schema).items", columns: ["id", "extra"])
        XCTAssertEqual(rows.count, 400)
        XCTAssertEqual(rows.filter { ($0["extra"] as? NSNumber) != nil }.count, 133, "extra was filled in 133 rows before the snapshot")
        XCTAssertFalse(try scenario.storeTables().contains("\(scenario.schema).plain"), "a table dropped before the snapshot is left out")
        // Streaming goes on with the snapshot's columns.
        try scenario.pg.sql.execute("UPDATE \(s).items SET extra = -1 WHERE id <= 10; UPDATE \(s).events SET body = '{}' WHERE a = 1")
        try scenario.waitCaughtUp()
        try scenario.compare(tables: ["\(scenario.schema).items", "\(scenario.schema).events"])
        process.signal(SIGTERM)
        XCTAssertEqual(process.wait(timeout: 60), 0, scenario.log)
    }

    /// The ledger's record of each table is the snapshot's: a change made after the snapshot and before the catalog
    /// watcher's first check (which no WAL record shows: an enum label renamed, a column retyped without a later write,
    /// a partition truncated) is compared with what the snapshot copied, and the table is copied afresh.
    func testChangesBetweenTheSnapshotAndTheFirstCatalogCheckAreCopied() throws {
        let scenario = try EndToEndTests.Scenario(rows: 100)
        defer { scenario.cleanup() }
        let q = scenario.quotedSchema
        try scenario.createEnumOrders()
        try scenario.pg.sql.execute("""
            CREATE TABLE \(q).sales (id int, region text, v text, PRIMARY KEY (id, region)) PARTITION BY LIST (region);
            CREATE TABLE \(q).sales_eu PARTITION OF \(q).sales FOR VALUES IN ('eu');
            CREATE TABLE \(q).sales_us PARTITION OF \(q).sales FOR VALUES IN ('us');
            INSERT INTO \(q).sales SELECT g, CASE WHEN g % 2 = 0 THEN 'eu' ELSE 'us' END, 'v' || g FROM generate_series(1, 200) g;
            """)
        let gate = scenario.store + ".gate"
        defer { try? FileManager.default.removeItem(atPath: gate); try? FileManager.default.removeItem(atPath: gate + ".waiting") }
        let process = try scenario.start(environment: ["FRESHET_TEST_PAUSE_BEFORE_CATALOG_CHECK": gate])
        defer { process.killAndWait() }
        let end = Date().addingTimeInterval(120)
        while !FileManager.default.fileExists(atPath: gate + ".waiting") {
            guard Date() < end, process.isRunning else { return XCTFail("freshet never reached its first catalog check:\n\(scenario.log)") }
            usleep(20_000)
        }
        XCTAssertGreaterThan(scenario.checkpoint, .zero, "the snapshot is committed before the first check")
        try scenario.pg.sql.execute("""
            ALTER TYPE \(q).status RENAME VALUE 'paid' TO 'settled';
            ALTER TABLE \(q).items ALTER COLUMN price TYPE numeric(10,1);
            TRUNCATE \(q).sales_eu
            """)
        FileManager.default.createFile(atPath: gate, contents: Data())
        for table in ["orders", "items", "sales"] {
            try scenario.waitForAutomaticResync(of: "\(scenario.schema).\(table)", count: 1)
        }
        try scenario.waitCaughtUp()
        try scenario.compare(tables: ["orders", "items", "sales"].map { "\(scenario.schema).\($0)" })
        for kind in ["enum_value_renamed", "column_retyped", "partitions_changed"] {
            XCTAssertTrue(scenario.log.contains("source.\(kind)"), "\(kind) not reported:\n\(scenario.log)")
        }
    }

    func testDifferencesNameWhatChanged() {
        let a = SourceColumn(name: "a", typeOID: 23, typeModifier: -1, notNull: true, attnum: 1)
        let b = SourceColumn(name: "b", typeOID: 25, typeModifier: -1, notNull: false, attnum: 2)
        let old = SourceTable(oid: 1, schema: "s", name: "t", columns: [a, b], primaryKey: ["a"], replicaIdentity: "d",
                              estimatedRows: 10, pages: 1)
        var now = old
        now.estimatedRows = 99
        XCTAssertEqual(SnapshotReplan.differences(old, now), [], "estimates are not a change")
        now.columns = [a, SourceColumn(name: "c", typeOID: 25, typeModifier: -1, notNull: false, attnum: 3)]
        now.name = "u"
        XCTAssertEqual(SnapshotReplan.differences(old, now), ["renamed to s.u", "columns: added c, removed b"])
        now = old
        now.columns[1].typeOID = 1043
        XCTAssertEqual(SnapshotReplan.differences(old, now), ["columns: column types or constraints changed"])
    }
}
