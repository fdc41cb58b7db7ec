import Foundation
import PostgresReplication
import TestSupport
import XCTest

/// TRUNCATE of one partition of a partitioned table, end to end against the sandbox PostgreSQL. Published via its
/// root, the table's TRUNCATE of a single partition never reaches the stream (pgoutput sends only the root's); the
/// catalog watcher sees the partition's new `relfilenode` and copies the table afresh, also when the TRUNCATE happened
/// while Freshet was stopped. The store must then equal PostgreSQL row by row.
final class PartitionTruncateTests: XCTestCase {
    typealias Scenario = EndToEndTests.Scenario

    func testTruncatedPartitionIsCopiedAfresh() throws {
        let s = try Scenario(rows: 100)
        defer { s.cleanup() }
        let q = s.quotedSchema
        let sales = "\(s.schema).sales"
        try s.pg.sql.execute("""
            CREATE TABLE \(q).sales (id int, region text, v text, PRIMARY KEY (id, region)) PARTITION BY LIST (region);
            CREATE TABLE \(q).sales_eu PARTITION OF \(q).sales FOR VALUES IN ('eu');
            CREATE TABLE \(q).sales_us PARTITION OF \(q).sales FOR VALUES IN ('us');
            INSERT INTO \(q).sales SELECT g, CASE WHEN g % 2 = 0 THEN 'eu' ELSE 'us' END, 'v' || g FROM generate_series(1, 200) g;
            """)
        var process = try s.startCaughtUp()
        defer { process.killAndWait() }
        try s.pg.sql.execute("TRUNCATE \(q).sales_eu; INSERT INTO \(q).sales VALUES (1000, 'us', 'after')")
        try s.waitForAutomaticResyncThenCompare(of: sales, count: 1)
        XCTAssertTrue(s.log.contains("source.partitions_changed"), s.log)

        process.signal(SIGTERM)
        XCTAssertEqual(process.wait(timeout: 60), 0)
        try s.pg.sql.execute("INSERT INTO \(q).sales VALUES (1001, 'eu', 'x'); TRUNCATE \(q).sales_us")
        process = try s.start()
        try s.waitForAutomaticResyncThenCompare(of: sales, count: 2)
    }
}
