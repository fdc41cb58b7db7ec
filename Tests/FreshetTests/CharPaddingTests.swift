import Foundation
import PostgresReplication
import TestSupport
import XCTest

/// `char(n)` keeps its padding in the store, as PostgreSQL's output text has it, whether a row came from the snapshot
/// or from the stream. (The snapshot used to select `col::text`, which strips trailing spaces, while pgoutput sends
/// the padded text: the torture run found pgbench_accounts' `filler char(84)` differing on every updated row.)
final class CharPaddingTests: XCTestCase {
    typealias Scenario = EndToEndTests.Scenario

    func testCharColumnsArePaddedAfterSnapshotAndStream() throws {
        let s = try Scenario(rows: 30)
        defer { s.cleanup() }
        let q = s.quotedSchema
        try s.pg.sql.execute("""
            CREATE TABLE \(q).padded (id int PRIMARY KEY, c char(5), cs char(3)[], v varchar(5));
            INSERT INTO \(q).padded VALUES (1, 'a', ARRAY['b'], 'v '), (2, NULL, NULL, NULL), (3, 'abcde', ARRAY['xyz'], '');
            """)
        let table = "\(s.schema).padded"
        let process = try s.startCaughtUp()
        defer { process.killAndWait() }
        try s.pg.sql.execute("""
            INSERT INTO \(q).padded VALUES (4, 'd', ARRAY['e'], 'w');
            UPDATE \(q).padded SET c = 'z' WHERE id = 3;
            """)
        try s.waitCaughtUp()
        try s.compare(tables: [table])
        var values: [Int: String] = [:]
        for row in try s.scanRows(table) {
            if let id = (row["id"] as? NSNumber)?.intValue, let c = row["c"] as? String { values[id] = c }
        }
        XCTAssertEqual(values, [1: "a    ", 3: "z    ", 4: "d    "], "snapshot row 1, streamed rows 3 and 4")
    }
}
