import Foundation
import TestSupport
import XCTest

/// One large transaction of wide rows (about 2.6 kB each: jsonb, text[], TOASTed text) stays under the 300 MB bound,
/// and so does `freshet compact` merging the largest parts after it: `Tools/memtest`, which reads the kernel's peak
/// RSS of each process (wait4) and checks the store against PostgreSQL through DuckDB.
///
/// The 2,000,000-row transaction (3.6 GB of WAL) takes PostgreSQL alone minutes to write here, so the suite
/// runs 400,000 rows by default (`FRESHET_TEST_MEMTEST_ROWS` changes it): about 1 GB of values, 30 times the stream
/// batch bound (`batch.maxBytes`, 32 MiB) and the queue's (32 MiB), 250 times a row group's (4 MiB), so every holder
/// fills and empties many times over; memory that grew with the transaction would show long before its end. The
/// 2M-row figures are in the README ("Reliability"), from `Tools/memtest` run by hand.
final class WideTransactionMemoryTests: XCTestCase {
    func testWideRowTransactionAndCompactStayUnder300MB() throws {
        _ = try TestEnvironment.postgresURL()
        _ = try TestEnvironment.python()
        _ = try TestEnvironment.executable("psql")
        let rows = ProcessInfo.processInfo.environment["FRESHET_TEST_MEMTEST_ROWS"].flatMap { Int($0) } ?? 400_000
        let tool = TestEnvironment.toolsDirectory.appendingPathComponent("memtest").path
        let r = try Subprocess.run(tool, ["--rows", "\(rows)", "--freshet", TestEnvironment.product("freshet"), "--bound-mb", "300"])
        print(r.stdout)
        XCTAssertEqual(r.status, 0, "memtest failed:\n\(r.stdout)\n\(r.stderr.suffix(4000))")
        XCTAssertTrue(r.stdout.contains("\(rows) rows in one transaction"), r.stdout)
        XCTAssertTrue(r.stdout.hasSuffix("OK\n"), r.stdout)
    }
}
