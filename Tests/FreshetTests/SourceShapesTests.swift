import Foundation
import PostgresReplication
import TestSupport
import XCTest

/// Sources the demo schema never shows, end to end against the sandbox PostgreSQL: partitioned tables, tables created
/// later (also with a `FOR TABLE` scope), tables without a key or with reserved column names, tables dropped and
/// created again, renamed tables and columns, `ADD COLUMN ... DEFAULT`, and slots or databases of another store.
/// After each change the store must equal PostgreSQL row by row (Tools/compare-store: `freshet scan` and DuckDB).
final class SourceShapesTests: XCTestCase {
    typealias Scenario = EndToEndTests.Scenario

    // MARK: partitioned tables

    func testPartitionedTableIsOneStoreTableThroughSnapshotStreamAttachDetachAndResync() throws {
        let s = try Scenario(rows: 300)
        defer { s.cleanup() }
        let q = s.quotedSchema
        try s.pg.sql.execute("""
            CREATE TABLE \(q).meas (id int, day date, v text, PRIMARY KEY (id, day)) PARTITION BY RANGE (day);
            CREATE TABLE \(q).meas_jan PARTITION OF \(q).meas FOR VALUES FROM ('2024-01-01') TO ('2024-02-01');
            CREATE TABLE \(q).meas_feb PARTITION OF \(q).meas FOR VALUES FROM ('2024-02-01') TO ('2024-03-01');
            CREATE TABLE \(q).meas_mar PARTITION OF \(q).meas FOR VALUES FROM ('2024-03-01') TO ('2024-04-01');
            INSERT INTO \(q).meas SELECT g, date '2024-01-01' + (g % 90), 'v' || g FROM generate_series(1, 3000) g;
            """)
        let meas = "\(s.schema).meas"
        let process = try s.startCaughtUp()
        defer { process.killAndWait() }
        try s.compare(tables: [meas])
        XCTAssertEqual(try s.storeTables().filter { $0.contains("meas") }, [meas], "leaves must not be tables of their own")

        // Streamed changes, one moving a row to another partition.
        try s.pg.sql.execute("""
            INSERT INTO \(q).meas SELECT g, date '2024-01-01' + (g % 90), 'new' || g FROM generate_series(3001, 3100) g;
            UPDATE \(q).meas SET v = 'updated' WHERE id % 7 = 0;
            UPDATE \(q).meas SET day = date '2024-02-15' WHERE id = 31 AND day < '2024-02-01';
            DELETE FROM \(q).meas WHERE id % 11 = 0;
            """)
        try s.waitCaughtUp()
        try s.compare(tables: [meas])

        // A partition attached with rows of its own: copied (automatic resync).
        try s.pg.sql.execute("""
            CREATE TABLE \(q).meas_apr (LIKE \(q).meas INCLUDING ALL);
            INSERT INTO \(q).meas_apr SELECT g, date '2024-04-01' + (g % 30), 'apr' || g FROM generate_series(5001, 5400) g;
            ALTER TABLE \(q).meas ATTACH PARTITION \(q).meas_apr FOR VALUES FROM ('2024-04-01') TO ('2024-05-01');
            """)
        try s.waitForAutomaticResyncThenCompare(of: meas, count: 1)

        // A partition detached: its rows leave the table.
        try s.pg.sql.execute("ALTER TABLE \(q).meas DETACH PARTITION \(q).meas_jan")
        try s.waitForAutomaticResyncThenCompare(of: meas, count: 2)

        // Resync names the root; naming a leaf says which table to resync instead.
        try s.resync([meas])
        try s.waitForResyncs(done: 3)
        try s.waitCaughtUp()
        try s.compare(tables: [meas])
        let leaf = try runFreshet(["resync", "\(s.schema).meas_feb", "--source", s.url])
        XCTAssertNotEqual(leaf.status, 0)
        XCTAssertTrue(leaf.stderr.contains("partition of \(meas)"), leaf.stderr)
        XCTAssertTrue(process.isRunning, s.log)
        // The detached partition is an ordinary table of the schema now, replicated as one.
        XCTAssertEqual(try s.storeTables().filter { $0.contains("meas") }, [meas, "\(s.schema).meas_jan"], s.log)
        try s.compare(tables: ["\(s.schema).meas_jan"])
    }

    // MARK: tables created later

    func testTablesCreatedLaterAreCopiedWholeAndUnreplicableOnesNeverBreakTheSource() throws {
        let s = try Scenario(rows: 300)
        defer { s.cleanup() }
        let q = s.quotedSchema
        // `--exclude` makes the scope a table list: tables created later must still join, with their existing rows.
        let process = try s.startCaughtUp(["--exclude", "\(s.schema).plain"])
        defer { process.killAndWait() }
        try s.pg.sql.execute("""
            CREATE TABLE \(q).later (id int PRIMARY KEY, n int, big text);
            INSERT INTO \(q).later SELECT g, g, (SELECT string_agg(md5((g * 100 + k)::text), '') FROM generate_series(1, 100) k)
            FROM generate_series(1, 300) g;
            CREATE TABLE \(q).nopk (a int, b text);
            INSERT INTO \(q).nopk VALUES (1, 'x');
            CREATE TABLE \(q).reserved (id int PRIMARY KEY, "_version" int);
            INSERT INTO \(q).reserved VALUES (1, 1);
            CREATE TABLE \(q).nothing (id int PRIMARY KEY, v int);
            ALTER TABLE \(q).nothing REPLICA IDENTITY NOTHING;
            INSERT INTO \(q).nothing VALUES (1, 1);
            """)
        try s.waitForAutomaticResync(of: "\(s.schema).later", count: 1)
        // The unreplicable tables are never published, so their updates and deletes keep working on the source.
        for _ in 0..<3 {
            try s.pg.sql.execute("UPDATE \(q).nopk SET b = 'y'; DELETE FROM \(q).nopk WHERE a = 2; UPDATE \(q).reserved SET \"_version\" = 2; "
                                 + "UPDATE \(q).nothing SET v = v + 1; DELETE FROM \(q).nothing WHERE id = 2")
            usleep(500_000)
        }
        // An update after the copy leaves the 3 kB TOASTed column unchanged in the WAL: it must keep its value.
        try s.pg.sql.execute("UPDATE \(q).later SET n = n + 1 WHERE id % 5 = 0")
        try s.waitCaughtUp()
        try s.compare(tables: ["\(s.schema).later", "\(s.schema).items"])
        XCTAssertTrue(process.isRunning, s.log)
        let published = try s.pg.sql.query("SELECT tablename FROM pg_publication_tables WHERE pubname = $1 ORDER BY 1",
                                           [s.publication]).rows.compactMap { $0[0] }
        XCTAssertEqual(published, ["events", "items", "later"])
        XCTAssertTrue(s.log.contains("source.unreplicable_table") && s.log.contains("\(s.schema).nopk")
                      && s.log.contains("\(s.schema).reserved") && s.log.contains("\(s.schema).nothing"), s.log)
        XCTAssertFalse(try s.storeTables().contains("\(s.schema).plain"))
    }

    // MARK: recreated, renamed and dropped tables

    func testRecreatedRenamedAndDroppedTablesFollowTheSource() throws {
        let s = try Scenario(rows: 300)
        defer { s.cleanup() }
        let q = s.quotedSchema
        var process = try s.start()
        try s.waitCaughtUp()

        // Dropped and created again while running: the old rows go, the new table's rows come.
        try s.pg.sql.execute("""
            DROP TABLE \(q).plain;
            CREATE TABLE \(q).plain (id int PRIMARY KEY, v float8, u uuid);
            INSERT INTO \(q).plain SELECT g, g * 2.5, md5((g + 7)::text)::uuid FROM generate_series(1000, 1020) g;
            """)
        try s.waitForAutomaticResyncThenCompare(of: "\(s.schema).plain", count: 1)

        // Renamed: the rows are kept under the new name; the old name is emptied.
        try s.pg.sql.execute("ALTER TABLE \(q).events RENAME TO events2; INSERT INTO \(q).events2 VALUES (999, 'after', '{}', '2024-01-01')")
        try s.waitForAutomaticResyncThenCompare(of: "\(s.schema).events2", count: 1)
        XCTAssertEqual(try s.storeRowCount("\(s.schema).events"), 0)
        for kind in ["table_recreated", "table_renamed"] {
            XCTAssertTrue(s.log.contains("source.\(kind)"), "no \(kind) warning:\n\(s.log)")
        }

        // Dropped and created again while Freshet was stopped.
        process.signal(SIGTERM)
        XCTAssertEqual(process.wait(timeout: 60), 0, s.log)
        try s.pg.sql.execute("""
            DROP TABLE \(q).items;
            CREATE TABLE \(q).items (id bigint PRIMARY KEY, qty int NOT NULL, price numeric(10,2), note text, big text,
              updated timestamptz NOT NULL DEFAULT now(), tags text[], flag bool, ratio float8);
            INSERT INTO \(q).items (id, qty, price, note) SELECT g, 1, 2.50, 'recreated' FROM generate_series(5, 9) g;
            """)
        process = try s.start()
        defer { process.killAndWait() }
        try s.waitForAutomaticResyncThenCompare(of: "\(s.schema).items", count: 1, tables: ["\(s.schema).items", "\(s.schema).plain", "\(s.schema).events2"])

        // Dropped for good: emptied.
        try s.pg.sql.execute("DROP TABLE \(q).plain")
        try s.waitForAutomaticResync(of: "\(s.schema).plain", count: 2)
        XCTAssertEqual(try s.storeRowCount("\(s.schema).plain"), 0)
        for kind in ["table_recreated", "table_dropped"] {
            XCTAssertTrue(s.log.contains("source.\(kind)"), "no \(kind) warning:\n\(s.log)")
        }
    }

    // MARK: column changes

    func testRenamedColumnsAndAddedDefaultsShowOnExistingRows() throws {
        let s = try Scenario(rows: 300)
        defer { s.cleanup() }
        let q = s.quotedSchema
        let process = try s.startCaughtUp()
        defer { process.killAndWait() }
        let items = "\(s.schema).items"
        try s.pg.sql.execute("ALTER TABLE \(q).items RENAME COLUMN note TO remark; UPDATE \(q).items SET qty = qty + 1 WHERE id = 1")
        try s.waitForAutomaticResyncThenCompare(of: items, count: 1)
        try s.pg.sql.execute("ALTER TABLE \(q).items ADD COLUMN status text DEFAULT 'new'; UPDATE \(q).items SET qty = qty + 1 WHERE id = 2")
        try s.waitForAutomaticResyncThenCompare(of: items, count: 2)
        XCTAssertTrue(s.log.contains("source.column_renamed") && s.log.contains("source.added_column_default"), s.log)
    }

    // MARK: two replicators on one database

    func testResyncRequestsReachOnlyTheReplicatorsTheyConcern() throws {
        let a = try Scenario(rows: 200)
        defer { a.cleanup() }
        let b = try Scenario(rows: 200)
        defer { b.cleanup() }
        let pa = try a.start(), pb = try b.start()
        defer { pa.signal(SIGKILL); pb.signal(SIGKILL); _ = pa.wait(timeout: 10); _ = pb.wait(timeout: 10) }
        try a.waitCaughtUp()
        try b.waitCaughtUp()
        // Both receive the request through the WAL; only A replicates the table.
        try a.resync(["\(a.schema).items"])
        try a.waitForResyncs(done: 1)
        try b.waitForResyncs(done: 1)
        XCTAssertFalse(try b.storeTables().contains("\(a.schema).items"), "B copied a table it does not replicate")
        // --slot: only that replicator acts, even for --all.
        let r = try runFreshet(["resync", "--all", "--slot", b.slot, "--source", b.url])
        XCTAssertEqual(r.status, 0, r.stderr)
        try b.waitForResyncs(done: 2)
        usleep(1_000_000)
        XCTAssertEqual(a.resyncEntries().count, 1, "A acted on a request for B's slot: \(a.resyncEntries())")
        try a.compare(tables: a.tables)
        try b.compare(tables: b.tables)
    }

    // MARK: slots and databases of another store

    func testAnotherStoreNeverTakesThisStoresSlotOrDatabase() throws {
        let a = try Scenario(rows: 300)
        defer { a.cleanup() }
        let process = try a.start()
        try a.waitCaughtUp()
        process.signal(SIGTERM)
        XCTAssertEqual(process.wait(timeout: 60), 0, a.log)
        let before = try XCTUnwrap(a.pg.sql.query("SELECT confirmed_flush_lsn::text FROM pg_replication_slots WHERE slot_name = $1",
                                                  [a.slot]).rows.first?[0])

        // Store B, new, with A's slot name: refused, and A's slot is untouched.
        let storeB = NSTemporaryDirectory() + "freshet-slot-b-" + a.pg.prefix
        defer { try? FileManager.default.removeItem(atPath: storeB) }
        let b = try runFreshet(["run", "--source", a.url, "--store", storeB, "--slot", a.slot, "--publication", a.pg.name("pubb"),
                                "--schema", a.schema, "--metrics", "off"])
        _ = try? a.pg.sql.execute("DROP PUBLICATION IF EXISTS \(SQLQuoting.identifier(a.pg.name("pubb")))")
        XCTAssertNotEqual(b.status, 0)
        XCTAssertTrue(b.stderr.contains(a.slot) && b.stderr.contains("cannot prove"), b.stderr)
        let after = try a.pg.sql.query("SELECT confirmed_flush_lsn::text FROM pg_replication_slots WHERE slot_name = $1", [a.slot]).rows.first?[0]
        XCTAssertEqual(after, before, "store B touched store A's slot")

        // A resumes on its own slot and stays exact.
        try a.pg.sql.execute("UPDATE \(SQLQuoting.identifier(a.schema)).items SET qty = qty + 1 WHERE id % 3 = 0")
        let resumed = try a.start()
        try a.waitCaughtUp()
        try a.compare(tables: a.tables)
        resumed.signal(SIGTERM)
        XCTAssertEqual(resumed.wait(timeout: 60), 0, a.log)

        // A's store pointed at another database of the same cluster: refused at once, without a retry loop.
        let otherDB = a.pg.name("db2")
        try a.pg.sql.execute("CREATE DATABASE \(SQLQuoting.identifier(otherDB))")
        defer { _ = try? a.pg.sql.execute("DROP DATABASE IF EXISTS \(SQLQuoting.identifier(otherDB)) WITH (FORCE)") }
        // The sandbox URL ends in /DBNAME, without parameters.
        let otherURL = String(a.url[..<(a.url.range(of: "/", options: .backwards)?.upperBound ?? a.url.endIndex)]) + otherDB
        let other = try Connection(otherURL)
        try other.execute("CREATE SCHEMA \(SQLQuoting.identifier(a.schema)); CREATE TABLE \(SQLQuoting.identifier(a.schema)).items (id bigint PRIMARY KEY)")
        other.close()
        let started = Date()
        let wrong = try runFreshet(["run", "--source", otherURL, "--store", a.store, "--slot", a.slot,
                                    "--publication", a.publication, "--schema", a.schema, "--metrics", "off"])
        XCTAssertNotEqual(wrong.status, 0)
        XCTAssertTrue(wrong.stderr.contains("database"), wrong.stderr)
        XCTAssertLessThan(Date().timeIntervalSince(started), 30, "a permanent error must not be retried")
        let otherSlots = try a.pg.sql.query("SELECT count(*)::text FROM pg_replication_slots WHERE database = $1", [otherDB]).scalar
        XCTAssertEqual(otherSlots, "0")
    }
}
