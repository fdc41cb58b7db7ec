import Foundation
import PostgresReplication
import TestSupport
import XCTest

/// An `UNLOGGED` table in scope, end to end against the sandbox PostgreSQL: its changes are not in the WAL and
/// PostgreSQL refuses it in a publication, so it is left out and reported with the fix (`SET LOGGED`), present at the
/// start or created later, while every other table replicates.
final class UnloggedTableTests: XCTestCase {
    typealias Scenario = EndToEndTests.Scenario

    func testUnloggedTablesAreReportedAndTheRestReplicates() throws {
        let s = try Scenario(rows: 200)
        defer { s.cleanup() }
        let q = s.quotedSchema
        try s.pg.sql.execute("CREATE UNLOGGED TABLE \(q).scratch (id int PRIMARY KEY, v text); INSERT INTO \(q).scratch VALUES (1, 'a')")
        let process = try s.startCaughtUp()
        defer { process.killAndWait() }
        try s.pg.sql.execute("""
            CREATE UNLOGGED TABLE \(q).later (id int PRIMARY KEY); INSERT INTO \(q).later VALUES (1);
            UPDATE \(q).items SET qty = qty + 1 WHERE id < 10; INSERT INTO \(q).scratch VALUES (2, 'b');
            """)
        usleep(6_000_000)   // a catalog check
        try s.waitCaughtUp()
        try s.compare(tables: s.tables)
        XCTAssertTrue(process.isRunning, s.log)
        XCTAssertEqual(try s.storeTables().filter { $0.hasSuffix(".scratch") || $0.hasSuffix(".later") }, [])
        XCTAssertTrue(s.log.contains("\(s.schema).scratch") && s.log.contains("\(s.schema).later")
                      && s.log.contains("SET LOGGED"), s.log)
    }
}
