import Foundation
import TestSupport
import XCTest

/// `Tools/bench` end to end at a tiny size: every phase runs against the sandbox PostgreSQL with the binary under test,
/// the report has every row with a figure, DuckDB and PostgreSQL agree on the query, and no password is printed.
/// (Timings at this size mean nothing; the test guards the tool, not the figures.)
final class BenchSmokeTests: XCTestCase {
    func testBenchRunsEveryPhaseAndWritesTheReport() throws {
        let url = try TestEnvironment.postgresURL()
        _ = try TestEnvironment.python()
        let out = FileManager.default.temporaryDirectory.appendingPathComponent("bench-smoke-\(UUID().uuidString).md")
        defer { try? FileManager.default.removeItem(at: out) }
        let tool = TestEnvironment.toolsDirectory.appendingPathComponent("bench").path
        let r = try Subprocess.run(tool, [
            "--freshet", TestEnvironment.product("freshet"), "--orders", "3000", "--runs", "1",
            "--big-tx-rows", "3000", "--small-tx", "400", "--backlog-seconds", "2", "--freshness-seconds", "8",
            "--out", out.path,
        ])
        XCTAssertEqual(r.status, 0, "bench failed:\n\(r.stderr.suffix(4000))")
        let report = try String(contentsOf: out, encoding: .utf8)
        for row in ["| initial snapshot,", "binary COPY, one stream:", "pg_dump", "catch-up, one transaction of 3,000 row updates",
                    "catch-up, 400 one-row transactions", "catch-up, Tools/loadgen", "peak RSS, initial snapshot",
                    "store size after the snapshot", "GROUP BY status", "DuckDB through the view", "raw scan:", "commit-to-visible lag p50",
                    "commit-to-visible lag p99", "CPU used by Freshet", "load achieved by pgbench"] {
            XCTAssertTrue(report.contains(row), "report lacks \(row):\n\(report)")
        }
        // Every lag quantile is a figure (the histogram had observations), and both query engines agreed.
        XCTAssertNil(report.range(of: "n/a"), report)
        XCTAssertTrue(r.stderr.contains("results equal"), r.stderr.suffix(2000).description)
        // The sandbox URL carries a password; nothing the bench prints or writes may contain it.
        if let password = URLComponents(string: url)?.password, !password.isEmpty {
            XCTAssertFalse(report.contains(password))
            XCTAssertFalse(r.stdout.contains(password))
            XCTAssertFalse(r.stderr.contains(password))
        }
    }
}
