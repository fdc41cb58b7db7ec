import Foundation
import PostgresReplication
import TestSupport
import XCTest

/// `Tools/bench` end to end at a tiny size, on all three bench schemas (the demo shop, the wide schema and pgbench's
/// tables): every phase runs against the sandbox PostgreSQL with the binary under test, the report has every row
/// with a figure for every schema, DuckDB and PostgreSQL agree on the query, no password is printed, and no bench
/// database or slot is left behind. (Timings at this size mean nothing; the test guards the tool, not the figures.)
final class BenchSmokeTests: XCTestCase {
    func testBenchRunsEveryPhaseOnEverySchemaAndWritesTheReport() throws {
        let url = try TestEnvironment.postgresURL()
        _ = try TestEnvironment.python()
        let out = FileManager.default.temporaryDirectory.appendingPathComponent("bench-smoke-\(UUID().uuidString).md")
        defer { try? FileManager.default.removeItem(at: out) }
        let tool = TestEnvironment.toolsDirectory.appendingPathComponent("bench").path
        let r = try Subprocess.run(tool, [
            "--freshet", TestEnvironment.product("freshet"), "--schema", "all", "--orders", "3000", "--runs", "1",
            "--big-tx-rows", "3000", "--small-tx", "400", "--backlog-seconds", "2", "--freshness-seconds", "8",
            "--out", out.path,
        ])
        XCTAssertEqual(r.status, 0, "bench failed:\n\(r.stderr.suffix(4000))")
        let report = try String(contentsOf: out, encoding: .utf8)
        XCTAssertTrue(report.contains("nproc "), report)
        XCTAssertTrue(report.contains("load average at the start"), report)
        // The side-by-side table has one column per schema.
        for column in ["| shop (shop.seed(3,000))", "| wide (wide.seed(750))", "| pgbench (pgbench -i -s 1, 100,000 accounts)"] {
            XCTAssertTrue(report.contains(column), "report lacks the column \(column):\n\(report)")
        }
        for section in ["## shop:", "## wide:", "## pgbench:"] {
            XCTAssertTrue(report.contains(section), "report lacks \(section):\n\(report)")
        }
        // Rows each schema's section has (pgbench's big transaction updates 3,000 accounts, the others' line items).
        for row in ["| initial snapshot,", "binary COPY, one stream:", "pg_dump", "catch-up, one transaction of",
                    "catch-up, 400 one-row transactions", "catch-up, ", "peak RSS, initial snapshot",
                    "peak RSS, catch-up of one big transaction", "peak RSS, catch-up of the one-row transactions",
                    "peak RSS, freshness under load", "store size after the snapshot", "commit-to-visible lag p50",
                    "commit-to-visible lag p99", "quiet table p99", "CPU used by Freshet", "load achieved by pgbench"] {
            XCTAssertGreaterThanOrEqual(report.components(separatedBy: row).count - 1, 3, "report lacks \(row) thrice:\n\(report)")
        }
        XCTAssertTrue(report.contains("GROUP BY status"), report)       // the query phase runs on the shop schema
        XCTAssertTrue(report.contains("DuckDB through the view") && report.contains("raw scan:"), report)
        // Every figure is there: every lag quantile (hot and quiet) and every side-by-side cell.
        XCTAssertNil(report.range(of: "n/a"), report)
        XCTAssertNil(report.range(of: "| — |"), report)
        XCTAssertTrue(r.stderr.contains("results equal"), r.stderr.suffix(2000).description)
        // The sandbox URL carries a password; nothing the bench prints or writes may contain it.
        if let password = URLComponents(string: url)?.password, !password.isEmpty {
            XCTAssertFalse(report.contains(password))
            XCTAssertFalse(r.stdout.contains(password))
            XCTAssertFalse(r.stderr.contains(password))
        }
        // Nothing left behind: no bench database (templates included) and no bench slot.
        let pg = try Connection(url)
        let left = try pg.query("SELECT (SELECT count(*) FROM pg_database WHERE datname LIKE 'freshet\\_bench%') + "
            + "(SELECT count(*) FROM pg_replication_slots WHERE slot_name LIKE 'freshet\\_bench%')").scalar
        XCTAssertEqual(left, "0", "the bench left databases or slots behind")
    }
}
