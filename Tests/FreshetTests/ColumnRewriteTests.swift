import Foundation
import PostgresReplication
import TestSupport
import XCTest

/// Column changes that give existing rows new values without a WAL record per row, end to end against the sandbox
/// PostgreSQL: `ALTER COLUMN ... TYPE` (its rewrite applies `USING` or a narrower scale to every row), a column
/// dropped and added again under the same name, and `ADD COLUMN` with a volatile default or an identity (a rewrite
/// fills the existing rows). Each must be copied afresh (automatic resync), also when it happened while Freshet was
/// stopped; the store must then equal PostgreSQL row by row (Tools/compare-store: `freshet scan` and DuckDB).
final class ColumnRewriteTests: XCTestCase {
    typealias Scenario = EndToEndTests.Scenario

    /// Runs `body` with a caught-up scenario (300 rows), its quoted schema and its `freshet run`, then cleans up.
    private func withScenario(_ body: (Scenario, String, inout FreshetProcess) throws -> Void) throws {
        let s = try Scenario(rows: 300)
        defer { s.cleanup() }
        var process = try s.startCaughtUp()
        defer { process.killAndWait() }
        try body(s, s.quotedSchema, &process)
    }

    func testRetypedColumnsShowTheRewrittenValues() throws {
        try withScenario { s, q, _ in
            // price 1/7.0 = 0.14 becomes 0.1; qty becomes text ten times larger.
            try s.pg.sql.execute("""
                ALTER TABLE \(q).items ALTER COLUMN price TYPE numeric(10,1);
                ALTER TABLE \(q).items ALTER COLUMN qty TYPE text USING (qty * 10)::text;
                UPDATE \(q).items SET note = 'touched' WHERE id = 1
                """)
            try s.waitForAutomaticResyncThenCompare(of: "\(s.schema).items", count: 1)
            XCTAssertTrue(s.log.contains("source.column_retyped"), s.log)

            // A column added, written and retyped in one transaction: the catalog shows only the last type, the
            // Relation messages show both.
            try s.pg.sql.execute("""
                BEGIN;
                ALTER TABLE \(q).plain ADD COLUMN c int; UPDATE \(q).plain SET c = id WHERE id < 50;
                ALTER TABLE \(q).plain ALTER COLUMN c TYPE text USING (c * 100)::text;
                INSERT INTO \(q).plain (id, c) VALUES (100000, 'new');
                COMMIT
                """)
            try s.waitForAutomaticResyncThenCompare(of: "\(s.schema).plain", count: 1)
        }
    }

    func testColumnDroppedAndAddedAgainNeverShowsTheOldValues() throws {
        try withScenario { s, q, process in
            // `u` is plain's last column: the new layout looks exactly like the old one.
            try s.pg.sql.execute("""
                ALTER TABLE \(q).plain DROP COLUMN u; ALTER TABLE \(q).plain ADD COLUMN u uuid;
                UPDATE \(q).plain SET v = -1 WHERE id = 1
                """)
            try s.waitForAutomaticResyncThenCompare(of: "\(s.schema).plain", count: 1)
            XCTAssertTrue(s.log.contains("source.column_recreated"), s.log)

            // The same while Freshet is stopped, on a column in the middle of the table.
            process.signal(SIGTERM)
            XCTAssertEqual(process.wait(timeout: 60), 0)
            try s.pg.sql.execute("""
                ALTER TABLE \(q).items DROP COLUMN note; ALTER TABLE \(q).items ADD COLUMN note text;
                UPDATE \(q).items SET qty = -1 WHERE id = 2
                """)
            process = try s.start()
            try s.waitForAutomaticResyncThenCompare(of: "\(s.schema).items", count: 1)
        }
    }

    func testVolatileDefaultsAndIdentitiesFillExistingRows() throws {
        try withScenario { s, q, _ in
            try s.pg.sql.execute("""
                ALTER TABLE \(q).plain ADD COLUMN r float8 DEFAULT random();
                ALTER TABLE \(q).plain ADD COLUMN n bigint GENERATED ALWAYS AS IDENTITY;
                INSERT INTO \(q).plain (id, v) VALUES (100000, 1)
                """)
            try s.waitForAutomaticResyncThenCompare(of: "\(s.schema).plain", count: 1)
            XCTAssertTrue(s.log.contains("source.added_column_default"), s.log)
        }
    }

    /// No Relation message follows a change until the table's next write: the catalog watcher finds it.
    func testColumnChangesWithoutLaterWritesAreCopied() throws {
        try withScenario { s, q, _ in
            try s.pg.sql.execute("""
                ALTER TABLE \(q).items ADD COLUMN d int DEFAULT 5;
                ALTER TABLE \(q).plain RENAME COLUMN v TO w;
                ALTER TABLE \(q).events ALTER COLUMN payload TYPE text USING payload->>'g';
                """)
            for table in s.tables { try s.waitForAutomaticResync(of: table, count: 1) }
            try s.waitCaughtUp()
            try s.compare(tables: s.tables)
        }
    }

    /// `ALTER TYPE ... RENAME VALUE` changes the text of every stored value with that label, without a WAL record.
    func testRenamedEnumValueIsCopied() throws {
        let s = try Scenario(rows: 100)
        defer { s.cleanup() }
        let q = s.quotedSchema
        try s.createEnumOrders()
        let process = try s.startCaughtUp()
        defer { process.killAndWait() }
        try s.pg.sql.execute("ALTER TYPE \(q).status RENAME VALUE 'paid' TO 'settled'; ALTER TYPE \(q).status ADD VALUE 'void'")
        try s.waitForAutomaticResyncThenCompare(of: "\(s.schema).orders", count: 1)
        XCTAssertTrue(s.log.contains("source.enum_value_renamed"), s.log)
    }
}
